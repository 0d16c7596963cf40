// Issue 14, done-when: `--boot-entry fallback` proven by a firmware boot with an empty NVRAM. A landing image
// made UEFI-bootable as Debian installs it (shim and GRUB signed by Debian in \EFI\debian, the entry left in the
// installer VM's NVRAM, no \EFI\BOOT) boots under OVMF with a fresh copy of OVMF's variable store, as on a server
// whose firmware ignores or forbids NVRAM entries: the firmware finds no loader on the disk and starts its shell.
// After the agent's finish with --boot-entry fallback (the real finishJob, mtools on the real ESP) the same
// firmware, again with empty NVRAM, starts \EFI\BOOT\BOOTX64.EFI (shim), GRUB and the installed system.
// OVMF runs under TCG: OVMF under KVM does not boot on these machines.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { createToolRunner } from '../../../agent/fidelity/index.js';
import { finishJob, type FinishableJob } from '../../../agent/finish/index.js';
import type { FileChange, Plan } from '../../../agent/protocol/index.js';
import { findOvmf, prepareUefiVars } from '../../../agent/vm/index.js';
import { BOOTED_MARKER, ensureLandingImage, type LandingImage } from './debian-image.js';
import { makeUefiBootable } from './efi-image.js';
import { startVm, type MetalVm } from './metal-vm.js';

const run = promisify(execFile);
const STACK = 'systemd-networkd';
// Firmware to shell or to the installed system's sshd, under TCG on 2 shared cores.
const BOOT_MS = 900_000;

let work = '';
let img: LandingImage;
let disk = '';
const log = (l: string): void => void process.stderr.write(`[efi-fallback] ${l}\n`);

beforeAll(async () => {
  await ensureDebianPackages(['debootstrap', 'qemu-system-x86', 'ovmf', 'mtools', 'fdisk', 'e2fsprogs']);
  work = await mkdtemp(join(tmpdir(), 'xepa-efi-fallback-real-'));
  img = await ensureLandingImage(STACK, log);
  disk = join(work, 'disk.img');
  await run('cp', ['--sparse=always', img.disk.image, disk]);
  log(`made UEFI-bootable: ${(await makeUefiBootable(img, disk)).join(', ')}`);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// OVMF (plain build, no Secure Boot) with a fresh variable store: no Boot#### entry but the firmware's own.
const bootFirmware = async (name: string): Promise<{ vm: MetalVm; vars: string }> => {
  const dir = await mkdtemp(join(work, `${name}-`));
  const fw = await prepareUefiVars(await findOvmf('/'), dir);
  if (!('codePath' in fw)) throw new Error('a split OVMF build (code + variables) is needed here');
  const vm = startVm(['qemu-system-x86_64', '-machine', 'q35,accel=tcg', '-m', '1024', '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot',
    '-serial', 'stdio',
    '-drive', `if=pflash,format=raw,readonly=on,file=${fw.codePath}`, '-drive', `if=pflash,format=raw,file=${fw.varsPath}`,
    '-drive', `file=${disk},if=none,id=d0,format=raw`, '-device', 'virtio-blk-pci,drive=d0']);
  return { vm, vars: fw.varsPath };
};
// The firmware's boot manager lines (which option it tried, and how that went).
const bdsLines = (text: string): string[] => (text.match(/BdsDxe: [^\r\n\x1b]*/g) ?? []).map((l) => l.trim());

describe('--boot-entry fallback on firmware with an empty NVRAM', () => {
  it('the installed system does not start before finish: the firmware finds no loader on the disk', async () => {
    const { vm } = await bootFirmware('before');
    try {
      await vm.waitForLine(/Shell> /, BOOT_MS);
      const bds = bdsLines(vm.console());
      log(`before finish:\n  ${bds.join('\n  ')}`);
      expect(bds.some((l) => /failed to load Boot\d+ "UEFI Misc Device" .*Not Found/.test(l)), bds.join('\n')).toBe(true);
      expect(vm.console()).not.toContain('XEPA-GRUB');
      expect(vm.console()).not.toContain(BOOTED_MARKER);
    } finally {
      await vm.stop();
    }
  });

  it('after finish --boot-entry fallback the firmware starts shim, GRUB and the installed system', async () => {
    const dir = await mkdtemp(join(work, 'job-'));
    const plan = { disks: [{ path: disk, sizeBytes: 0 }], firmware: 'uefi' } as unknown as Plan;
    const job: FinishableJob = { id: 'efi-fallback', dir, plan, state: 'done', done: Promise.resolve(), stopForFinish: () => undefined };
    const r = await finishJob(job, { job: job.id, bootEntry: 'fallback', network: 'keep' }, {
      run: createToolRunner(),
      hostFirmware: async () => 'uefi',
      findDisks: async () => ({ paths: [disk], problems: [] }),
      reboot: () => undefined,
      landing: { procFilesystems: () => readFile('/proc/filesystems', 'utf8') },
    });
    const efi = r.steps.find((s) => s.step === 'efi')!;
    expect(efi, JSON.stringify(r.steps, null, 1)).toMatchObject({ status: 'ok', detail: { policy: 'fallback', loader: '\\EFI\\debian\\shimx64.efi' } });
    const changes = efi.detail!.changes as FileChange[];
    log(`finish: ${efi.message}\n${changes.map((c) => `  ${c.action} ${c.path} ${c.sha256}`).join('\n')}`);
    expect(changes.map((c) => [c.path.split(':').pop(), c.action])).toEqual([
      ['\\EFI\\BOOT\\BOOTX64.EFI', 'created'],
      ['\\EFI\\BOOT\\grubx64.efi', 'created'],
      ['\\EFI\\BOOT\\mmx64.efi', 'created'],
      ['\\EFI\\BOOT\\grub.cfg', 'created'],
    ]);
    const { vm } = await bootFirmware('after');
    try {
      await vm.waitForLine(new RegExp(BOOTED_MARKER), BOOT_MS);
      const bds = bdsLines(vm.console());
      log(`after finish:\n  ${bds.join('\n  ')}`);
      expect(bds.some((l) => /starting Boot\d+ "UEFI Misc Device" from PciRoot/.test(l)), bds.join('\n')).toBe(true);
      expect(vm.console()).toContain('XEPA-GRUB: loading vmlinuz-');
      expect(vm.console()).not.toContain('Shell> ');
    } finally {
      await vm.stop();
    }
  });
});
