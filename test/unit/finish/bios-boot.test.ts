import { describe, expect, it } from 'vitest';
import { BIOS_BOOT_GPT_TYPE, grubCoreLba, inspectBiosBoot } from '../../../agent/finish/bios-boot.js';
import { biosBootStep } from '../../../agent/finish/boot-step.js';
import type { ToolRunner } from '../../../agent/fidelity/index.js';

// An MBR as grub-install leaves it: boot.img's code with "GRUB " and the core sector patched in at 0x5c.
const grubMbr = (coreLba: number, hybrid = false): Buffer => {
  const b = Buffer.alloc(512);
  b[0] = 0xeb;
  b[1] = 0x63;
  b.write('GRUB \0Geom\0Hard Disk\0Read\0 Error\r\n', 0x180, 'latin1');
  b.writeBigUInt64LE(BigInt(coreLba), hybrid ? 0x1b0 : 0x5c);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
};
const diskboot = Buffer.alloc(512, 0);
diskboot.write('RV\xbe\x1b\x81', 0, 'latin1');
const dos = JSON.stringify({ partitiontable: { label: 'dos', sectorsize: 512, partitions: [{ node: '/dev/sda1', start: 2048, size: 100000, type: '83' }] } });
const gpt = (withBiosBoot: boolean): string => JSON.stringify({ partitiontable: { label: 'gpt', sectorsize: 512, partitions: [
  ...(withBiosBoot ? [{ node: '/dev/sda1', start: 2048, size: 2048, type: BIOS_BOOT_GPT_TYPE }] : []),
  { node: '/dev/sda2', start: 4096, size: 100000, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' },
] } });

describe('BIOS boot code', () => {
  it('finds GRUB with its core image in the gap after the MBR on a DOS disk', () => {
    const r = inspectBiosBoot('/dev/sda', grubMbr(1), dos, diskboot);
    expect(r).toMatchObject({ label: 'dos', code: 'grub', ok: true, core: { where: 'the gap after the MBR (sector 1)', ok: true } });
  });

  it('finds GRUB\'s core in the BIOS boot partition of a GPT disk, and refuses a GPT disk without one', () => {
    expect(inspectBiosBoot('/dev/sda', grubMbr(2048), gpt(true), diskboot)).toMatchObject({ ok: true, core: { where: 'the BIOS boot partition /dev/sda1' } });
    const none = inspectBiosBoot('/dev/sda', grubMbr(1), gpt(false), diskboot);
    expect(none).toMatchObject({ ok: false, message: '/dev/sda: GRUB boot code on a GPT disk without a BIOS boot partition' });
  });

  it('reads the core sector of a hybrid ISO\'s MBR (xorriso) and fails an empty core sector', () => {
    expect(grubCoreLba(grubMbr(240, true))).toBe(240);
    expect(inspectBiosBoot('/dev/sda', grubMbr(240, true), JSON.stringify({ partitiontable: { label: 'dos', partitions: [{ node: '/dev/sda1', start: 1, size: 31411, type: 'cd' }] } }), diskboot)).toMatchObject({ ok: true, core: { where: 'sector 240 inside /dev/sda1' } });
    expect(inspectBiosBoot('/dev/sda', grubMbr(1), dos, Buffer.alloc(512))).toMatchObject({ ok: false, message: '/dev/sda: GRUB boot code, core image missing from the gap after the MBR (sector 1)' });
  });

  it('says a disk without boot code cannot be started, and names other loaders', () => {
    expect(inspectBiosBoot('/dev/sdb', Buffer.alloc(512), undefined, undefined)).toMatchObject({ code: 'none', ok: false, message: '/dev/sdb: no boot code in the MBR (no 55AA signature): a BIOS cannot start this disk' });
    const win = Buffer.alloc(512);
    win[0] = 0x33;
    win.write('Invalid partition table\0Error loading operating system\0Missing operating system', 0x163, 'latin1');
    win[510] = 0x55;
    win[511] = 0xaa;
    expect(inspectBiosBoot('/dev/sda', win, dos, undefined)).toMatchObject({ code: 'windows', ok: true });
  });

  it('fails the step when no disk has boot code, warns when only some do', async () => {
    const disks: Record<string, Buffer> = { '/dev/sda': grubMbr(1), '/dev/sdb': Buffer.alloc(512) };
    const run: ToolRunner = async () => ({ code: 0, stdout: dos, stderr: '' });
    const read = async (disk: string, off: number, len: number): Promise<Buffer> => (off === 0 ? disks[disk]!.subarray(0, len) : diskboot.subarray(0, len));
    const some = await biosBootStep(['/dev/sda', '/dev/sdb'], run, read);
    expect(some.status).toBe('warn');
    expect(some.message).toMatch(/the server boots only if its BIOS starts \/dev\/sda$/);
    const none = await biosBootStep(['/dev/sdb'], run, read);
    expect(none).toMatchObject({ status: 'fail' });
    expect(none.message).toMatch(/the server would not boot the installed system$/);
  });
});
