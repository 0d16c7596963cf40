import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolRunner } from '../../../agent/fidelity/index.js';
import { finishJob, saveBackups, type FinishDeps, type FinishableJob } from '../../../agent/finish/index.js';
import type { JobState, Plan } from '../../../agent/protocol/index.js';
import { fakeEfibootmgr, type FakeFirmware } from './fake-efibootmgr.js';

const SFDISK = await readFile(new URL('./fixtures/sfdisk-gpt-esp.json', import.meta.url), 'utf8');
const PARTUUID = '519f4df2-7676-a344-bb4f-07fbfcdbff0b';
const plan = { disks: [{ path: '/dev/nvme0n1', name: 'nvme0n1', sizeBytes: 1 << 30, serial: 'S4EW', via: 'raw' }], firmware: 'uefi' } as unknown as Plan;

// sfdisk and mdir as they answer for a disk whose ESP holds Debian's shim and GRUB.
const disksTools: ToolRunner = async (cmd) => {
  if (cmd === 'sfdisk') return { code: 0, stdout: SFDISK, stderr: '' };
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
const deps = (over: Partial<FinishDeps> = {}): FinishDeps => ({
  run: fakeEfibootmgr(fw, disksTools, { '/dev/nvme0n11': PARTUUID }),
  hostFirmware: async () => 'uefi',
  findDisks: async () => ({ paths: ['/dev/nvme0n1'], problems: [] }),
  reboot: () => void rebooted++,
  ...over,
});
const statusOf = (r: Awaited<ReturnType<typeof finishJob>>) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));

describe('finish', () => {
  it('stops a running VM, creates the installed system\'s boot entry first in BootOrder, and does not reboot by default', async () => {
    await saveBackups(dir, [{ disk: '/dev/nvme0n1', sizeBytes: 1 << 30, takenAt: 't', head: { bytes: 0, gzBase64: '' }, tail: { bytes: 0, offset: 0, gzBase64: '' }, sha256: '0'.repeat(64) }]);
    const j = job('running');
    const r = await finishJob(j, { job: 'job-1' }, deps());
    expect(j.state).toBe('done');
    expect(statusOf(r)).toEqual({ vm: 'ok', devices: 'ok', backup: 'ok', efi: 'ok', check: 'skipped', reboot: 'skipped' });
    expect(r.ok).toBe(true);
    expect(rebooted).toBe(0);
    expect(fw.entries.at(-1)).toEqual({ num: '0002', label: 'debian', path: `HD(1,GPT,${PARTUUID},0x800,0x10000)/File(\\EFI\\debian\\shimx64.efi)` });
    expect(fw.order).toEqual(['0002', '0001', '0000']);
  });

  it('appends the entry and keeps the provider\'s order with bootOrder keep', async () => {
    await finishJob(job('done'), { job: 'job-1', bootOrder: 'keep' }, deps());
    expect(fw.order).toEqual(['0001', '0000', '0002']);
  });

  it('keeps an identical entry instead of creating a second one', async () => {
    fw.entries.push({ num: '0007', label: 'debian', path: `HD(1,GPT,${PARTUUID},0x800,0x10000)/File(\\EFI\\debian\\shimx64.efi)` });
    const r = await finishJob(job('done'), { job: 'job-1' }, deps());
    expect(r.steps.find((s) => s.step === 'efi')!.detail).toMatchObject({ entry: '0007', action: 'kept' });
    expect(fw.calls.some((c) => c.includes('--create-only'))).toBe(false);
    expect(fw.order[0]).toBe('0007');
  });

  it('reboots only when asked and every step passed', async () => {
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
    const r = await finishJob(job('done'), { job: 'job-1', reboot: true }, deps({ run: fakeEfibootmgr(fw, noEsp) }));
    expect(r.steps.find((s) => s.step === 'efi')).toMatchObject({ status: 'fail', detail: { code: 'ERR_EFI_BOOT' } });
    expect(rebooted).toBe(0);
  });

  it('boot-checks the installed disks when a banner is given', async () => {
    const r = await finishJob(job('done'), { job: 'job-1', banner: 'login:' }, deps({ bootCheck: async (_j, banner) => ({ ok: true, message: `saw "${banner}" on ttyS0` }) }));
    expect(r.steps.find((s) => s.step === 'check')).toMatchObject({ status: 'ok', message: 'saw "login:" on ttyS0' });
  });
});
