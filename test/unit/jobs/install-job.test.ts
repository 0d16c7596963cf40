import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobManager } from '../../../agent/jobs/index.js';
import { type VmExitInfo } from '../../../agent/vm/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { InstallRequest, XepaError, type JobEvent, type Plan } from '../../../agent/protocol/index.js';

const plan: Plan = {
  hash: 'h', disks: [{ path: '/dev/loop7', name: 'loop7', serial: 'S1', sizeBytes: 1 << 26, via: 'raw' }],
  firmware: 'bios', accel: 'tcg', accelReason: 'test', memoryMiB: 512, cpus: 1, diskBus: 'virtio', iommu: false, warnings: [],
};
const request = InstallRequest.parse({ iso: { url: 'http://127.0.0.1/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/loop7' }] });

// A fake runtime whose VM ends the way the test says, recording what the job did to the world.
function fakeRuntime(opts: { exit?: VmExitInfo; fetchError?: XepaError; holdVm?: boolean } = {}) {
  const calls: string[] = [];
  let resolveExit: (e: VmExitInfo) => void = () => {};
  const rt: FakeRuntime = {
    log: pino({ level: 'silent' }),
    now: () => new Date(),
    fetchIso: async (_iso, o) => {
      calls.push('fetch');
      if (opts.fetchError) throw opts.fetchError;
      o.onProgress({ bytes: 10, total: 10 });
      return { path: '/tmp/x.iso', sha256: 'a'.repeat(64), size: 10, reused: false };
    },
    prepareFirmware: async () => ({ mode: 'bios' }),
    startVm: async (spec) => {
      calls.push(`start:${spec.disks.map((d) => d.path).join(',')}:${spec.cdrom}`);
      const exited = new Promise<VmExitInfo>((r) => (resolveExit = r));
      if (!opts.holdVm) setTimeout(() => resolveExit(opts.exit ?? { code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] }), 5);
      return {
        pid: 42,
        demoteCdrom: async () => void calls.push('demote-cdrom'),
        exited,
        stop: async () => {
          calls.push('stop');
          resolveExit({ code: 0, signal: null, shutdownReason: 'host-qmp-quit', stderrTail: [] });
          return exited;
        },
      };
    },
    claimDisks: async (_job, paths) => {
      calls.push(`claim:${paths.join(',')}`);
      return { release: async () => void calls.push('release') };
    },
    verifyDisks: async () => {
      calls.push('verify');
      return [];
    },
  };
  return { rt, calls, finishVm: (e: VmExitInfo) => resolveExit(e) };
}

const states = (events: JobEvent[]): string[] => [...new Set(events.map((e) => e.state))];

describe('install job', () => {
  it('walks every state in order and ends done when the guest powers off', async () => {
    const { rt, calls } = fakeRuntime();
    const jobs = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt));
    const job = jobs.create(request, plan);
    await job.done;
    expect(job.state).toBe('done');
    expect(states(job.events.events)).toEqual(['planned', 'fetching', 'verifying', 'binding', 'booting', 'running', 'stopping', 'restoring', 'done']);
    expect(job.events.events.map((e) => e.seq)).toEqual(job.events.events.map((_, i) => i + 1));
    expect(calls).toEqual(['fetch', 'claim:/dev/loop7', 'start:/dev/loop7:/tmp/x.iso', 'demote-cdrom', 'stop', 'release', 'verify']);
  });

  it('fails with the digest error, never boots, and still restores', async () => {
    const { rt, calls } = fakeRuntime({ fetchError: new XepaError('ERR_FETCH_DIGEST', 'sha256 mismatch') });
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await job.done;
    expect(job.summary().error?.code).toBe('ERR_FETCH_DIGEST');
    expect(job.state).toBe('failed');
    expect(calls.some((c) => c.startsWith('start'))).toBe(false);
    expect(states(job.events.events).slice(-2)).toEqual(['restoring', 'failed']);
  });

  it('reports a QEMU crash with its last stderr lines', async () => {
    const { rt } = fakeRuntime({ exit: { code: null, signal: 'SIGKILL', stderrTail: ['qemu: something broke'] } });
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await job.done;
    expect(job.summary().error?.code).toBe('ERR_QEMU_EXIT');
    expect(job.summary().error?.message).toContain('qemu: something broke');
  });

  it('cancels a running VM, restores, and ends cancelled', async () => {
    const { rt, calls } = fakeRuntime({ holdVm: true });
    const job = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt)).create(request, plan);
    await new Promise<void>((resolve) => job.events.follow(0, (e) => e.state === 'running' && resolve()));
    job.cancel();
    await job.done;
    expect(job.state).toBe('cancelled');
    expect(calls).toContain('release');
    expect(calls).toContain('verify');
  });

  it('refuses a second job on a disk a running job holds, and frees it when the job ends', async () => {
    const { rt, finishVm } = fakeRuntime({ holdVm: true });
    const jobs = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt));
    const first = jobs.create(request, plan);
    expect(() => jobs.create(request, plan)).toThrowError(expect.objectContaining({ code: 'ERR_DEVICE_BUSY' }));
    await new Promise<void>((resolve) => first.events.follow(0, (e) => e.state === 'running' && resolve()));
    finishVm({ code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] });
    await first.done;
    const second = jobs.create(request, plan);
    expect(second.id).not.toBe(first.id);
    second.cancel();
    await second.done;
  });

  it('replays missed events after a sequence number, then streams live ones, each once', async () => {
    const { rt } = fakeRuntime();
    const jobs = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(rt));
    const job = jobs.create(request, plan);
    await job.done;
    const seen: number[] = [];
    jobs.follow(job.id, 3, (e) => seen.push(e.seq));
    expect(seen[0]).toBe(4);
    expect(seen.at(-1)).toBe(job.events.lastSeq);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('boot order', () => {
  it('boots the CD once by default and keeps the disks first when asked', async () => {
    const once = fakeRuntime();
    await new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(once.rt)).create(request, plan).done;
    expect(once.calls).toContain('demote-cdrom');
    const diskFirst = fakeRuntime();
    const req = InstallRequest.parse({ ...request, vm: { bootOrder: 'disk-first' } });
    await new JobManager(mkdtempSync(join(tmpdir(), 'xepa-jobs-')), jobEnv(diskFirst.rt)).create(req, plan).done;
    expect(diskFirst.calls).not.toContain('demote-cdrom');
  });
});

describe('jobs across agent restarts', () => {
  it('shows the jobs of an earlier run, and ends an interrupted one failed with ERR_AGENT_RESTARTED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xepa-jobs-'));
    const first = new JobManager(dir, jobEnv(fakeRuntime().rt));
    const finished = first.create(request, plan);
    await finished.done;
    const { rt } = fakeRuntime({ holdVm: true });
    const second = new JobManager(dir, jobEnv(rt)).create(request, { ...plan, disks: [{ ...plan.disks[0]!, path: '/dev/loop8' }] });
    await new Promise<void>((resolve) => second.events.follow(0, (e) => e.state === 'running' && resolve()));
    // the agent "dies" here: a new manager reads the same directory
    const after = new JobManager(dir, jobEnv(fakeRuntime().rt));
    expect(after.loadPast(pino({ level: 'silent' }))).toBe(2);
    expect(after.get(finished.id).summary().state).toBe('done');
    const interrupted = after.get(second.id).summary();
    expect(interrupted.state).toBe('failed');
    expect(interrupted.error?.code).toBe('ERR_AGENT_RESTARTED');
    const seqs = after.get(second.id).events.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // and a third start sees the same, without appending again
    const third = new JobManager(dir, jobEnv(fakeRuntime().rt));
    third.loadPast(pino({ level: 'silent' }));
    expect(third.get(second.id).events.lastSeq).toBe(after.get(second.id).events.lastSeq);
    second.cancel();
    await second.done;
  });
});
