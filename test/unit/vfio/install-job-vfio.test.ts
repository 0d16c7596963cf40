import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from '../../../agent/jobs/index.js';
import { type VmExitInfo, type VmSpec } from '../../../agent/vm/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { InstallRequest, isXepaError, type Plan } from '../../../agent/protocol/index.js';
import { bindToVfio, listJournals } from '../../../agent/vfio/index.js';
import { type FakeHostTree, buildFakeHost, pciDevice } from '../host/fake-sysfs.js';
import { FakeKernelSysfs } from './fake-kernel.js';

const log = pino({ level: 'silent' });
let host: FakeHostTree | undefined;
afterEach(async () => host?.cleanup());

const plan: Plan = {
  hash: 'h',
  disks: [{ path: '/dev/nvme1n1', name: 'nvme1n1', serial: 'S2', sizeBytes: 1 << 30, via: 'vfio', pciAddress: '0000:02:00.0' }],
  firmware: 'bios', accel: 'tcg', accelReason: 'test', memoryMiB: 512, cpus: 1, diskBus: 'virtio', iommu: true, warnings: [],
  passthrough: {
    mode: 'vfio',
    devices: [{ bdf: '0000:02:00.0', vendorId: '0x144d', deviceId: '0xa808', classCode: '0x010802', className: 'NVMe controller', driver: 'nvme', iommuGroup: 3, role: 'disk-controller', disks: [{ name: 'nvme1n1', serial: 'S2' }], nics: [], bootIndex: 1 }],
    bind: [{ bdf: '0000:02:00.0', group: 3 }, { bdf: '0000:02:00.1', group: 3 }],
    groups: [], protected: [], interruptRemapping: 'on',
  },
};
const request = InstallRequest.parse({ iso: { url: 'http://127.0.0.1/x.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: 'S2' }] });

// A job runtime whose vfio side is the real bind/restore over a fake kernel; the VM ends as the test says.
async function setup(exit: VmExitInfo | 'crash-on-start') {
  host = await buildFakeHost({ pci: [pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 3 }), pciDevice('0000:02:00.1', 'nvme', { iommuGroup: 3 })] });
  const k = new FakeKernelSysfs(host.sysRoot, host.devRoot, { '0000:02:00.0': 'nvme', '0000:02:00.1': 'nvme' });
  await k.makeDriver('vfio-pci');
  const stateDir = `${host.root}/state`;
  const vfio = { sysfs: k, log, stateDir, devRoot: host.devRoot, sleep: async () => {}, devWaitMs: 0 };
  const specs: VmSpec[] = [];
  const driversAtStart: (string | undefined)[] = [];
  const rt: FakeRuntime = {
    log,
    now: () => new Date(),
    fetchIso: async () => ({ path: '/tmp/x.iso', sha256: 'a'.repeat(64), size: 10, reused: false }),
    prepareFirmware: async () => ({ mode: 'bios' }),
    startVm: async (spec) => {
      specs.push(spec);
      driversAtStart.push(await k.driverOf('0000:02:00.0'));
      if (exit === 'crash-on-start') throw Object.assign(new Error('qemu: vfio 0000:02:00.0: failed to setup container'), { code: 'ERR_QEMU_START' });
      return { pid: 1, exited: Promise.resolve(exit), stop: async () => exit };
    },
    claimDisks: async () => {
      throw new Error('a vfio-only plan claims no raw disk');
    },
    verifyDisks: async () => [],
    bindVfio: async (job, devices) => {
      const b = await bindToVfio(vfio, job, devices);
      return { release: async () => void (await b.restore()) };
    },
  };
  return { k, rt, specs, driversAtStart, stateDir };
}

describe('install job with passthrough', () => {
  it('binds the group before QEMU, hands the controller over as vfio-pci booting first, and restores after', async () => {
    const { k, rt, specs, driversAtStart, stateDir } = await setup({ code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] });
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await job.done;
    expect(job.state).toBe('done');
    expect(driversAtStart).toEqual(['vfio-pci']);
    expect(specs[0]!.hostDevices).toEqual([{ bdf: '0000:02:00.0', bootIndex: 1 }]);
    expect(specs[0]!.disks).toEqual([]);
    expect(await k.driverOf('0000:02:00.0')).toBe('nvme');
    expect(await k.driverOf('0000:02:00.1')).toBe('nvme');
    expect(await listJournals(stateDir)).toEqual([]);
  });

  it('restores the devices when QEMU fails to start', async () => {
    const { k, rt } = await setup('crash-on-start');
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await job.done;
    expect(job.state).toBe('failed');
    expect(await k.driverOf('0000:02:00.0')).toBe('nvme');
  });

  it('restores the devices when QEMU is killed', async () => {
    const { k, rt } = await setup({ code: null, signal: 'SIGKILL', stderrTail: ['killed'] });
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await job.done;
    expect(job.summary().error?.code).toBe('ERR_QEMU_EXIT');
    expect(await k.driverOf('0000:02:00.0')).toBe('nvme');
    expect(await k.driverOf('0000:02:00.1')).toBe('nvme');
  });

  it('refuses a second job whose plan needs a function another job holds with ERR_DEVICE_BUSY', async () => {
    const { rt } = await setup({ code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] });
    let release: () => void = () => {};
    const held = new Promise<VmExitInfo>((r) => (release = () => r({ code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] })));
    const jobs = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv({ ...rt, startVm: async () => ({ pid: 1, exited: held, stop: () => held }) }));
    const first = jobs.create(request, plan);
    const other: Plan = { ...plan, disks: [{ ...plan.disks[0]!, path: '/dev/other', name: 'other' }] };
    let err: unknown;
    try {
      jobs.create(request, other);
    } catch (e) {
      err = e;
    }
    expect(isXepaError(err, 'ERR_DEVICE_BUSY')).toBe(true);
    expect((err as Error).message).toContain('0000:02:00.0');
    release();
    await first.done;
  });
});
