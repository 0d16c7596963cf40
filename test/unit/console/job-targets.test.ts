import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobConsoleTargets } from '../../../agent/console/index.js';
import { JobManager, type InstallJob } from '../../../agent/jobs/index.js';
import { type VmExitInfo } from '../../../agent/vm/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { InstallRequest, type Plan } from '../../../agent/protocol/index.js';
import { QmpClient } from '../../../agent/qmp/index.js';
import { silentLog } from '../api/fixtures.js';
import { startFakeQmp, type FakeQmpServer } from '../qmp/fake-qmp-server.js';
import { codeOf } from '../../support/error-code.js';
import { waitFor } from '../../support/wait-for.js';

const plan = (path: string): Plan => ({
  hash: 'h', disks: [{ path, name: 'x', sizeBytes: 1 << 26, via: 'raw' }],
  firmware: 'bios', accel: 'tcg', accelReason: 'test', memoryMiB: 512, cpus: 1, diskBus: 'virtio', iommu: false, warnings: [],
});
const request = (path: string) => InstallRequest.parse({ iso: { url: 'http://127.0.0.1/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path }] });

describe('console targets of the agent jobs', () => {
  let fake: FakeQmpServer;
  // The running VMs, by the disk their job installs onto; each test ends the VMs it started (afterEach).
  const vms = new Map<string, { qmp: QmpClient; end: (e: VmExitInfo) => void }>();
  const started: InstallJob[] = [];
  let jobs: JobManager;
  const guestShutdown: VmExitInfo = { code: 0, signal: null, shutdownReason: 'guest-shutdown', stderrTail: [] };

  beforeAll(async () => {
    fake = await startFakeQmp((msg, conn) => conn.send({ return: {}, id: msg.id }));
    const rt: FakeRuntime = {
      log: silentLog(),
      now: () => new Date(),
      fetchIso: async () => ({ path: '/tmp/x.iso', sha256: 'a'.repeat(64), size: 10, reused: false }),
      prepareFirmware: async () => ({ mode: 'bios' }),
      startVm: async (spec) => {
        const qmp = await QmpClient.connect(fake.path, { log: silentLog() });
        let end: (e: VmExitInfo) => void = () => {};
        const exited = new Promise<VmExitInfo>((r) => (end = (e) => void qmp.close().then(() => r(e))));
        vms.set(spec.disks[0]!.path, { qmp, end });
        return { pid: 1, exited, qmp, stop: async () => (end({ code: 0, signal: null, stderrTail: [] }), exited) };
      },
      claimDisks: async () => ({ release: async () => undefined }),
      verifyDisks: async () => [],
    };
    jobs = new JobManager(mkdtempSync(join(tmpdir(), 'xepa-targets-')), jobEnv(rt));
  });
  afterEach(async () => {
    for (const vm of vms.values()) vm.end(guestShutdown);
    vms.clear();
    await Promise.all(started.splice(0).map((j) => j.done));
  });
  afterAll(() => fake?.close());

  // Starts an install onto `path` and waits (bounded) until its VM runs and the job says so.
  const runningJob = async (path: string): Promise<InstallJob> => {
    const job = jobs.create(request(path), plan(path));
    started.push(job);
    await waitFor(() => vms.has(path) && job.state === 'running', { what: `${job.id} to run its VM` });
    return job;
  };

  it('finds the one job whose VM runs, with its sockets, serial logs and the supervisor QMP connection', async () => {
    const targets = jobConsoleTargets(jobs);
    expect(codeOf(() => targets(undefined))).toBe('ERR_NOT_FOUND');
    const job = await runningJob('/dev/loop1');
    const t = targets(undefined);
    expect(t).toMatchObject({ job: job.id, dir: job.dir, vnc: join(job.dir, 'vnc.sock'), serialLogs: [join(job.dir, 'serial0.log'), join(job.dir, 'serial1.log')] });
    expect(t.qmp).toBe(vms.get('/dev/loop1')!.qmp);
    expect(targets(job.id).job).toBe(job.id);
  });

  it('asks for ?job= when several VMs run, and refuses a job whose VM has ended (ERR_JOB_STATE)', async () => {
    const targets = jobConsoleTargets(jobs);
    const first = await runningJob('/dev/loop1');
    const second = await runningJob('/dev/loop2');
    expect(codeOf(() => targets(undefined))).toBe('ERR_BAD_REQUEST');
    vms.get('/dev/loop2')!.end(guestShutdown);
    await second.done;
    expect(codeOf(() => targets(second.id))).toBe('ERR_JOB_STATE');
    expect(targets(undefined).job).toBe(first.id);
    expect(codeOf(() => targets('job-unknown'))).toBe('ERR_NOT_FOUND');
  });
});
