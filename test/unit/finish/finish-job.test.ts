import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolRunner } from '../../../agent/fidelity/index.js';
import { finishJob, saveBackups, type FinishDeps, type FinishableJob } from '../../../agent/finish/index.js';
import type { JobState, Plan } from '../../../agent/protocol/index.js';
import { fakeEfibootmgr, type FakeFirmware } from './fake-efibootmgr.js';
import { debianIfupdown } from '../landing/fake-root.js';

const SFDISK = await readFile(new URL('./fixtures/sfdisk-gpt-esp.json', import.meta.url), 'utf8');
const PARTUUID = '519f4df2-7676-a344-bb4f-07fbfcdbff0b';
const plan = { disks: [{ path: '/dev/nvme0n1', name: 'nvme0n1', sizeBytes: 1 << 30, serial: 'S4EW', via: 'raw' }], firmware: 'uefi' } as unknown as Plan;

// sfdisk and mdir as they answer for a disk whose ESP holds Debian's shim and GRUB; mount and umount record
// their arguments (the test's "installed root" is a fake tree already at the mount point).
const mounts: string[][] = [];
const disksTools: ToolRunner = async (cmd, args) => {
  if (cmd === 'sfdisk') return { code: 0, stdout: SFDISK, stderr: '' };
  if (cmd === 'mount' || cmd === 'umount') return mounts.push([cmd, ...args]), { code: 0, stdout: '', stderr: '' };
  if (cmd === 'mdir') return { code: 0, stdout: '::/EFI/debian\n::/EFI/debian/shimx64.efi\n::/EFI/debian/grubx64.efi\n::/EFI/BOOT/BOOTX64.EFI\n', stderr: '' };
  return { code: 127, stdout: '', stderr: `${cmd}: not faked` };
};

let dir = '';
let fw: FakeFirmware;
let rebooted = 0;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-finish-'));
  fw = { order: ['0001', '0000'], entries: [{ num: '0000', label: 'UiApp', path: 'FvVol(x)/FvFile(y)' }, { num: '0001', label: 'UEFI PXEv4', path: 'PciRoot(0x0)/Pci(0x1c,0x0)/MAC(b49691000001,0)' }], calls: [] };
  rebooted = 0;
  mounts.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const job = (state: JobState): FinishableJob & { state: JobState } => {
  const j = {
    id: 'job-1', dir, plan, state, done: Promise.resolve(),
    stopForFinish: () => void (j.state = 'done'),
    errorMessage: () => (state === 'failed' ? 'QEMU ended with code 1' : undefined),
  };
  return j;
};
// The disk's bytes: a vfat ESP at partition 1, ext4 at partition 2 (the fixture's offsets).
const readAt = () => async (off: number, len: number): Promise<Buffer> => {
  const b = Buffer.alloc(len);
  const put = (at: number, write: (x: Buffer, o: number) => void): void => void (at >= off && at < off + len && write(b, at - off));
  put(2048 * 512 + 0x52, (x, o) => x.write('FAT32   ', o, 'latin1'));
  put(67584 * 512 + 1024 + 0x38, (x, o) => x.writeUInt16LE(0xef53, o));
  put(67584 * 512 + 1024 + 0x60, (x, o) => x.writeUInt32LE(0x2c2, o));
  return b;
};
const rescue = { iface: 'eth0', mac: 'a0:36:9f:12:34:56', ipv4: [{ address: '203.0.113.10', prefix: 32 }], gateway4: { address: '203.0.113.1', onLink: true }, ipv6: [], dns: ['192.0.2.53'], search: [], notes: [] };
const landing = { procFilesystems: async () => 'nodev\tproc\n\text4\n', readAt, isBlockDevice: async () => true, diskSize: async () => 1 << 30 };
const deps = (over: Partial<FinishDeps> = {}): FinishDeps => ({
  run: fakeEfibootmgr(fw, disksTools, { '/dev/nvme0n11': PARTUUID }),
  rescueNetwork: async () => rescue,
  landing,
  hostFirmware: async () => 'uefi',
  findDisks: async () => ({ paths: ['/dev/nvme0n1'], problems: [] }),
  reboot: () => void rebooted++,
  ...over,
});
const statusOf = (r: Awaited<ReturnType<typeof finishJob>>) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));

// Puts a Debian ifupdown tree where finish mounts the installed root.
const installedRoot = async (): Promise<string> => {
  const tree = await debianIfupdown();
  await cp(tree.root, join(dir, 'landing-root'), { recursive: true, verbatimSymlinks: true });
  await rm(tree.root, { recursive: true, force: true });
  return join(dir, 'landing-root');
};

describe('finish', () => {
  it('stops a running VM, creates the installed system\'s boot entry first in BootOrder, and does not reboot by default', async () => {
    await saveBackups(dir, [{ disk: '/dev/nvme0n1', sizeBytes: 1 << 30, takenAt: 't', head: { bytes: 0, gzBase64: '' }, tail: { bytes: 0, offset: 0, gzBase64: '' }, sha256: '0'.repeat(64) }]);
    const j = job('running');
    const root = await installedRoot();
    const r = await finishJob(j, { job: 'job-1' }, deps());
    expect(j.state).toBe('done');
    expect(statusOf(r)).toEqual({ vm: 'ok', devices: 'ok', backup: 'ok', root: 'ok', network: 'ok', efi: 'ok', check: 'skipped', reboot: 'skipped' });
    expect(r.steps.find((s) => s.step === 'root')!.message).toBe('Debian GNU/Linux 12 (bookworm) on ext4 (ext4) on esp.img2, init systemd');
    // read-only first, then writable only to write; both unmounted
    expect(mounts.map((m) => m.join(' '))).toEqual([`mount -t ext4 -o ro,noload esp.img2 ${root}`, `umount ${root}`, `mount -t ext4 -o rw esp.img2 ${root}`, `umount ${root}`]);
    expect(await readFile(join(root, 'etc/network/interfaces.d/xepa-metal'), 'utf8')).toContain('address 203.0.113.10/32');
    expect(r.ok).toBe(true);
    expect(rebooted).toBe(0);
    expect(fw.entries.at(-1)).toEqual({ num: '0002', label: 'debian', path: `HD(1,GPT,${PARTUUID},0x800,0x10000)/File(\\EFI\\debian\\shimx64.efi)` });
    expect(fw.order).toEqual(['0002', '0001', '0000']);
  });

  it('appends the entry and keeps the provider\'s order with bootOrder keep', async () => {
    await finishJob(job('done'), { job: 'job-1', bootOrder: 'keep', network: 'keep' }, deps());
    expect(fw.order).toEqual(['0001', '0000', '0002']);
  });

  it('keeps an identical entry instead of creating a second one', async () => {
    fw.entries.push({ num: '0007', label: 'debian', path: `HD(1,GPT,${PARTUUID},0x800,0x10000)/File(\\EFI\\debian\\shimx64.efi)` });
    const r = await finishJob(job('done'), { job: 'job-1', network: 'keep' }, deps());
    expect(r.steps.find((s) => s.step === 'efi')!.detail).toMatchObject({ entry: '0007', action: 'kept' });
    expect(fw.calls.some((c) => c.includes('--create-only'))).toBe(false);
    expect(fw.order[0]).toBe('0007');
  });

  it('reboots only when asked and every step passed', async () => {
    await installedRoot();
    const r = await finishJob(job('done'), { job: 'job-1', reboot: true }, deps());
    expect(r.rebooting).toBe(true);
    expect(rebooted).toBe(1);
  });

  it('leaves the firmware alone and does not reboot when a disk did not come back', async () => {
    const r = await finishJob(job('done'), { job: 'job-1', reboot: true }, deps({ findDisks: async () => ({ paths: [], problems: ['/dev/nvme0n1 (serial S4EW) is not back on the host'] }) }));
    expect(statusOf(r)).toMatchObject({ devices: 'fail', efi: 'skipped', reboot: 'skipped' });
    expect(r.ok).toBe(false);
    expect(rebooted).toBe(0);
    expect(fw.calls).toEqual([]);
  });

  it('moves nothing to the metal after a failed install', async () => {
    const r = await finishJob(job('failed'), { job: 'job-1', reboot: true }, deps());
    expect(r.steps[0]).toMatchObject({ step: 'vm', status: 'fail' });
    expect(r.steps[0]!.message).toMatch(/QEMU ended with code 1/);
    expect(fw.calls).toEqual([]);
    expect(rebooted).toBe(0);
  });

  it('has nothing to reconcile on a BIOS server', async () => {
    const r = await finishJob(job('done'), { job: 'job-1' }, deps({ hostFirmware: async () => 'bios' }));
    expect(r.steps.find((s) => s.step === 'efi')).toMatchObject({ status: 'skipped' });
    expect(r.steps.find((s) => s.step === 'backup')).toMatchObject({ status: 'warn' });
  });

  it('reports a disk without an ESP as a failed efi step with ERR_EFI_BOOT', async () => {
    const noEsp: ToolRunner = async (cmd) => (cmd === 'sfdisk' ? { code: 0, stdout: JSON.stringify({ partitiontable: { label: 'gpt', partitions: [] } }), stderr: '' } : disksTools(cmd, []));
    const r = await finishJob(job('done'), { job: 'job-1', reboot: true, network: 'keep' }, deps({ run: fakeEfibootmgr(fw, noEsp) }));
    expect(r.steps.find((s) => s.step === 'efi')).toMatchObject({ status: 'fail', detail: { code: 'ERR_EFI_BOOT' } });
    expect(rebooted).toBe(0);
  });

  it('boot-checks the installed disks when a banner is given', async () => {
    const r = await finishJob(job('done'), { job: 'job-1', banner: 'login:', network: 'keep' }, deps({ bootCheck: async (_j, banner) => ({ ok: true, message: `saw "${banner}" on ttyS0` }) }));
    expect(r.steps.find((s) => s.step === 'check')).toMatchObject({ status: 'ok', message: 'saw "login:" on ttyS0' });
  });

  it('fails the network step, keeps the firmware and does not reboot when the installed root cannot be found', async () => {
    const r = await finishJob(job('done'), { job: 'job-1', reboot: true }, deps());
    expect(statusOf(r)).toMatchObject({ root: 'fail', network: 'skipped', efi: 'skipped', reboot: 'skipped' });
    expect(r.steps.find((s) => s.step === 'root')!.message).toMatch(/no installed Linux root on \/dev\/nvme0n1 .*--network keep/);
    expect(fw.calls).toEqual([]);
    expect(rebooted).toBe(0);
  });

  it('with --network keep opens the root read-only, reports its stack and writes nothing', async () => {
    const root = await installedRoot();
    const r = await finishJob(job('done'), { job: 'job-1', network: 'keep' }, deps());
    expect(r.steps.find((s) => s.step === 'network')).toMatchObject({ status: 'skipped', detail: { stack: 'ifupdown', mode: 'keep' } });
    expect(mounts.filter((m) => m[0] === 'mount').map((m) => m[4])).toEqual(['ro,noload']);
    await expect(readFile(join(root, 'etc/network/interfaces.d/xepa-metal'))).rejects.toThrow();
  });

  it('fails the network step when the rescue network cannot be read, naming why', async () => {
    await installedRoot();
    const r = await finishJob(job('done'), { job: 'job-1' }, deps({ rescueNetwork: async () => Promise.reject(new Error('ip: not found')) }));
    expect(r.steps.find((s) => s.step === 'network')).toMatchObject({ status: 'fail' });
    expect(r.steps.find((s) => s.step === 'network')!.message).toMatch(/rescue system's network could not be read: ip: not found/);
  });

  it('lists every file written with its digest in the network step', async () => {
    await installedRoot();
    const r = await finishJob(job('done'), { job: 'job-1', network: 'dhcp' }, deps());
    const changes = r.steps.find((s) => s.step === 'network')!.detail!.changes as { path: string; action: string; sha256: string }[];
    expect(changes.map((c) => [c.path, c.action])).toEqual([['/etc/systemd/network/05-xepa-metal.link', 'created'], ['/etc/network/interfaces.d/xepa-metal', 'created']]);
    expect(changes.every((c) => /^[0-9a-f]{64}$/.test(c.sha256))).toBe(true);
  });

  it('with --boot-entry none makes no entry and does not touch the firmware', async () => {
    const r = await finishJob(job('done'), { job: 'job-1', network: 'keep', bootEntry: 'none' }, deps());
    expect(r.steps.find((s) => s.step === 'efi')).toMatchObject({ status: 'skipped' });
    expect(fw.calls).toEqual([]);
  });
});
