import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../controller/client/index.js';
import type { LoopDisk } from '../../../controller/demo/loop-disk.js';
import { agentBench } from './helpers/agent-bench.js';
import { fakeIso, watchJob } from './helpers/agent-harness.js';
import { BOOT_MARKER, createBootDisk } from './helpers/boot-disk.js';
import { startFaultServer, type FaultServer } from './helpers/fault-server.js';
import { canOpenExclusive, isAlive } from './helpers/processes.js';

// The agent is SIGKILLed while a job's VM runs on a loop disk. Its QEMU outlives it (nothing tells a child that
// its parent died). The restarted agent must stop that VM before anything else, end the job failed with the
// reason, keep its event log whole, and take a new job on the same disk.
// Controllers connect only when the test says (connect()): the agent is killed under them.
const bench = agentBench('xepa-restart-', { connect: false });
const iso = fakeIso();
let server: FaultServer;
let disk: LoopDisk;

beforeAll(async () => {
  server = bench.hold(await startFaultServer(() => ({ body: iso.body })));
  disk = bench.hold(await createBootDisk(join(bench.work, 'disk.img'), 'halt'));
});

const connect = (): Promise<AgentClient> => bench.connect();
const request = () => ({ iso: { url: server.url, sha256: iso.sha256 }, disks: [{ path: disk.device }], vm: { memoryMiB: 256, cpus: 1, bootOrder: 'disk-first' as const } });
const jobFile = (job: string, f: string): string => join(bench.h.stateDir, 'jobs', job, f);
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('agent killed with SIGKILL mid-job', () => {
  it('on restart stops the VM it left behind, fails the job with ERR_AGENT_RESTARTED, and accepts a new job on the same disk', async () => {
    const first = await connect();
    const job = await first.call('install', request());
    const w = watchJob(first, job.id);
    await w.until((e) => e.state === 'running', 'the running state');
    await until('the guest to run the disk', () => existsSync(jobFile(job.id, 'serial0.log')) && readFileSync(jobFile(job.id, 'serial0.log'), 'latin1').includes(BOOT_MARKER));
    const qemu = Number(readFileSync(jobFile(job.id, 'qemu.pid'), 'utf8'));
    const agentPid = bench.h.agent.pid;

    process.kill(agentPid, 'SIGKILL');
    await until('the agent to die', async () => !(await isAlive(agentPid)));
    expect(await isAlive(qemu)).toBe(true); // the orphan this test is about: still running the guest

    await bench.h.restart();
    expect(await isAlive(qemu)).toBe(false);
    expect(existsSync(jobFile(job.id, 'qemu.pid'))).toBe(false);
    expect(await canOpenExclusive(disk.device)).toBe(true);

    const second = await connect();
    const old = await second.call('job.get', { job: job.id });
    expect(old.error?.code).toBe('ERR_AGENT_RESTARTED');
    expect(old.state).toBe('failed');
    const replay = watchJob(second, job.id);
    await replay.done;
    expect(replay.events.map((e) => e.seq)).toEqual(replay.events.map((_, i) => i + 1)); // the log is whole: 1..n
    expect(replay.states().slice(-2)).toEqual(['restoring', 'failed']);

    const next = await second.call('install', request());
    const nw = watchJob(second, next.id);
    await nw.until((e) => e.state === 'running', 'the new job running');
    expect(await canOpenExclusive(disk.device)).toBe(false); // the new job holds the disk now
    await second.call('job.cancel', { job: next.id });
    await nw.done;
    expect((await second.call('job.get', { job: next.id })).state).toBe('cancelled');
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });
});
