// The install job's side of fidelity and finish: partition tables saved before the VM, fidelity parts in the
// VM spec and released after it, and a VM stopped by `finish` ending the job done.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobManager } from '../../../agent/jobs/index.js';
import { type VmExitInfo, type VmSpec } from '../../../agent/vm/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { InstallRequest, type Plan } from '../../../agent/protocol/index.js';

const plan: Plan = {
  hash: 'h', disks: [{ path: '/dev/loop7', name: 'loop7', serial: 'S1', sizeBytes: 1 << 26, via: 'raw' }],
  firmware: 'bios', accel: 'tcg', accelReason: 'test', memoryMiB: 512, cpus: 1, diskBus: 'virtio', iommu: false, warnings: [],
};
const request = InstallRequest.parse({ iso: { url: 'http://127.0.0.1/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/loop7' }] });

function runtime() {
  const calls: string[] = [];
  let spec: VmSpec | undefined;
  let resolveExit: (e: VmExitInfo) => void = () => {};
  let started: () => void = () => {};
  const running = new Promise<void>((r) => (started = r));
  const rt: FakeRuntime = {
    log: pino({ level: 'silent' }),
    now: () => new Date(),
    fetchIso: async () => ({ path: '/tmp/x.iso', sha256: 'a'.repeat(64), size: 10, reused: true }),
    prepareFirmware: async () => ({ mode: 'bios' }),
    backupPartitionTables: async () => {
      calls.push('backup');
      return [{ disk: '/dev/loop7', serial: 'S1', sfdisk: 'label: gpt\n' }];
    },
    prepareFidelity: async () => {
      calls.push('prepare-fidelity');
      return { spec: { cpuModel: 'max', nics: [{ model: 'e1000e', mac: 'b4:96:91:00:00:01' }] }, notes: ['NIC: e1000e'], release: async () => void calls.push('release-fidelity') };
    },
    startVm: async (s) => {
      spec = s;
      calls.push('start');
      const exited = new Promise<VmExitInfo>((r) => (resolveExit = r));
      setTimeout(started, 0);
      return {
        pid: 42,
        exited,
        stop: async () => {
          calls.push('stop');
          resolveExit({ code: 0, signal: null, shutdownReason: 'host-qmp-quit', stderrTail: [] });
          return exited;
        },
      };
    },
    claimDisks: async () => {
      calls.push('claim');
      return { release: async () => void calls.push('release-disks') };
    },
    verifyDisks: async () => [],
  };
  return { rt, calls, running, spec: () => spec };
}

// An install job with fidelity, run until its VM runs, then stopped for finish and ended.
async function finishedJob() {
  const r = runtime();
  const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(r.rt)).create(request, plan);
  await r.running;
  job.stopForFinish();
  await job.done;
  return { r, job };
}

describe('the install job with fidelity', () => {
  it('saves partition tables before claiming the disks, boots with the fidelity parts, and releases them after', async () => {
    const { r, job } = await finishedJob();
    expect(r.calls.slice(0, 4)).toEqual(['backup', 'claim', 'prepare-fidelity', 'start']);
    expect(r.calls).toContain('release-fidelity');
    expect(r.spec()).toMatchObject({ cpuModel: 'max', nics: [{ model: 'e1000e', mac: 'b4:96:91:00:00:01' }] });
    const backup = job.events.events.find((e) => e.detail?.partitionTables);
    expect(backup?.detail?.partitionTables).toEqual([{ disk: '/dev/loop7', serial: 'S1', sfdisk: 'label: gpt\n' }]);
  });

  it('ends done, not cancelled, when finish stops the VM', async () => {
    const { job } = await finishedJob();
    expect(job.state).toBe('done');
    expect(job.events.events.at(-1)?.message).toBe('VM stopped by finish');
    expect(job.summary().error).toBeUndefined();
  });
});
