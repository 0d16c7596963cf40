import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootCheckInVm, type FinishableJob } from '../../../agent/finish/index.js';
import type { Plan } from '../../../agent/protocol/index.js';
import type { VmSpec } from '../../../agent/vm/index.js';

let dir = '';
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'xepa-bootcheck-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const plan = { accel: 'tcg', memoryMiB: 512, cpus: 1, firmware: 'bios', diskBus: 'virtio', disks: [{ path: '/dev/sda', serial: 'S1' }] } as unknown as Plan;
const job = (): FinishableJob => ({ id: 'j1', dir, plan, state: 'done', done: Promise.resolve(), stopForFinish: () => undefined });

// A VM that writes `serial` to its COM1 log when started, and ends when `ends` resolves.
function fakeVm(serial: string, ends: Promise<void> = new Promise(() => undefined)) {
  const seen: { spec?: VmSpec; stopped: number } = { stopped: 0 };
  return {
    seen,
    startVm: async (spec: VmSpec) => {
      seen.spec = spec;
      await writeFile(spec.serialLogs![0], serial);
      return { exited: ends, stop: async () => void seen.stopped++ };
    },
  };
}
const deps = (vm: ReturnType<typeof fakeVm>, clock = { t: 0 }) => ({
  startVm: vm.startVm,
  firmware: async () => ({ mode: 'bios' as const }),
  diskPaths: async () => ['/dev/sdb'],
  sleep: async () => void (clock.t += 500),
  now: () => clock.t,
});

describe('the boot check of the installed disks', () => {
  it('boots the disks without the CD, with writes discarded, and passes on the banner', async () => {
    const vm = fakeVm('GRUB\nDebian GNU/Linux 12 host ttyS0\nhost login: ');
    const r = await bootCheckInVm(job(), 'login:', 60_000, deps(vm));
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/printed "login:" on ttyS0/);
    expect(vm.seen.spec).toMatchObject({ disks: [{ path: '/dev/sdb', bus: 'virtio', serial: 'S1' }], extraArgs: ['-snapshot'] });
    expect(vm.seen.spec!.cdrom).toBeUndefined();
    expect(vm.seen.stopped).toBe(1);
  });

  it('fails when the VM ends without the banner', async () => {
    const vm = fakeVm('No bootable device.\n', Promise.resolve());
    const r = await bootCheckInVm(job(), 'login:', 60_000, deps(vm));
    expect(r).toMatchObject({ ok: false });
    expect(r.message).toMatch(/ended before "login:"/);
  });

  it('fails when the banner does not come in time, and stops the VM', async () => {
    const vm = fakeVm('booting...\n');
    const r = await bootCheckInVm(job(), 'login:', 5_000, deps(vm));
    expect(r.message).toMatch(/no "login:" on a serial port within 5 s/);
    expect(vm.seen.stopped).toBe(1);
  });
});

describe('a second boot check', () => {
  it('does not pass on the banner an earlier check left in the serial log', async () => {
    await writeFile(join(dir, 'check-serial0.log'), 'host login: ');
    const vm = {
      startVm: async () => ({ exited: Promise.resolve(), stop: async () => undefined }), // prints nothing this time
    };
    const r = await bootCheckInVm(job(), 'login:', 60_000, { ...deps(fakeVm('')), startVm: vm.startVm });
    expect(r.ok).toBe(false);
  });
});
