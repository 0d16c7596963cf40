import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../controller/client/index.js';
import type { LoopDisk } from '../../../controller/demo/loop-disk.js';
import { XepaError, isTerminal, type JobSummary } from '../../../agent/protocol/index.js';
import { agentBench } from './helpers/agent-bench.js';
import { watchJob, fakeIso, type JobWatch } from './helpers/agent-harness.js';
import { BOOT_MARKER, createBootDisk, type GuestAction } from './helpers/boot-disk.js';
import { startFaultServer, type FaultServer } from './helpers/fault-server.js';
import { canOpenExclusive, isAlive, pidsWithArg } from './helpers/processes.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { codeOfAsync } from '../../support/error-code.js';
import { waitFor } from '../../support/wait-for.js';

// Faults around the VM, with real processes: the agent bundle, QEMU (TCG) booting a loop disk whose boot sector
// halts, reboots or powers off, and a loopback HTTP server for the ISO (a small random file; the jobs boot their
// disks first, so the CD-ROM is never booted). Every assertion is on the end state: the job's state and error, the events, the
// QEMU process, the disk's exclusive claim.
const bench = agentBench('xepa-vm-faults-');
const iso = fakeIso();
let server: FaultServer;

beforeAll(async () => {
  server = bench.hold(await startFaultServer(() => ({ body: iso.body, etag: '"v1"' })));
});

// The agent never leaves a QEMU behind: after every test, each job has ended by the test's own doing and no QEMU
// of any job runs. Jobs a failed test left running are cancelled first, so the next test starts clean in any order.
afterEach(async () => {
  const live = (await bench.client.call('job.list', {})).jobs.filter((j) => !isTerminal(j.state));
  for (const j of live) {
    await bench.client.call('job.cancel', { job: j.id }).catch(() => undefined);
    await watchJob(bench.client, j.id).done;
  }
  for (const j of (await bench.client.call('job.list', {})).jobs) expect(await pidsWithArg(`guest=xepa-${j.id}`)).toEqual([]);
  expect(live.map((j) => `${j.id} was still ${j.state}`)).toEqual([]);
});

let n = 0;
const bootDisk = async (action: GuestAction): Promise<LoopDisk> => bench.hold(await createBootDisk(join(bench.work, `disk-${n++}.img`), action));
const request = (disk: LoopDisk, vm: Record<string, unknown> = {}) => ({
  iso: { url: server.url, sha256: iso.sha256 },
  disks: [{ path: disk.device }],
  vm: { memoryMiB: 256, cpus: 1, bootOrder: 'disk-first' as const, ...vm },
});
const jobDir = (job: string): string => join(bench.h.stateDir, 'jobs', job);
const serialLog = (job: string): string => {
  const p = join(jobDir(job), 'serial0.log');
  return existsSync(p) ? readFileSync(p, 'latin1') : '';
};
const markers = (job: string): number => serialLog(job).split(BOOT_MARKER).length - 1;
const qemuPid = (job: string): number => Number(readFileSync(join(jobDir(job), 'qemu.pid'), 'utf8').trim());

// Waits (bounded) until the guest's boot sector has printed its marker `count` times.
async function guestRan(job: string, count = 1, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (markers(job) < count) {
    if (Date.now() > deadline) throw new Error(`the guest of ${job} did not print ${BOOT_MARKER} ${count}x; serial: ${serialLog(job).slice(-300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Starts an install and waits until its VM runs the disk's boot sector.
async function runningJob(disk: LoopDisk, vm: Record<string, unknown> = {}): Promise<{ job: JobSummary; w: JobWatch }> {
  const job = await bench.client.call('install', request(disk, vm));
  const w = watchJob(bench.client, job.id);
  await w.until((e) => e.state === 'running', 'the running state');
  await guestRan(job.id);
  return { job, w };
}

describe('QEMU dies under a running job', () => {
  it('fails the job with ERR_QEMU_EXIT naming SIGKILL, runs restoring, and frees the disk', async () => {
    const disk = await bootDisk('halt');
    const { job, w } = await runningJob(disk);
    const pid = qemuPid(job.id);
    expect(await canOpenExclusive(disk.device)).toBe(false); // claimed by the job while the VM runs
    process.kill(pid, 'SIGKILL');
    await w.done;
    const end = await bench.client.call('job.get', { job: job.id });
    expect(end.error?.code).toBe('ERR_QEMU_EXIT');
    expect(end.state).toBe('failed');
    expect(end.error?.details).toMatchObject({ signal: 'SIGKILL', stderrTail: expect.any(Array) });
    expect(w.states().slice(-3)).toEqual(['restoring', 'restoring', 'failed']);
    expect(await isAlive(pid)).toBe(false);
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });

  it('fails the job with QEMU\'s last stderr lines when QEMU is told to terminate (SIGTERM)', async () => {
    const disk = await bootDisk('halt');
    const { job, w } = await runningJob(disk);
    process.kill(qemuPid(job.id), 'SIGTERM');
    await w.done;
    const end = await bench.client.call('job.get', { job: job.id });
    expect(end.error?.code).toBe('ERR_QEMU_EXIT');
    expect(end.error?.message).toMatch(/terminating on signal 15/);
    expect(end.error?.details).toMatchObject({ shutdownReason: 'host-signal' });
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });
});

describe('a guest that reboots instead of powering off', () => {
  it('with vm.endOn "reboot", ends the job done at the first reboot, having booted the disk once', async () => {
    const disk = await bootDisk('reboot');
    const job = await bench.client.call('install', request(disk, { endOn: 'reboot' }));
    const w = watchJob(bench.client, job.id);
    await w.done;
    const end = await bench.client.call('job.get', { job: job.id });
    expect(end.error).toBeUndefined();
    expect(end.state).toBe('done');
    expect(w.events.at(-1)?.message).toMatch(/rebooted/);
    expect(markers(job.id)).toBe(1);
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });

  it('by default, reports each reboot, keeps the job running while the guest boots on from its disk, and cancels cleanly', async () => {
    const disk = await bootDisk('reboot');
    const job = await bench.client.call('install', request(disk));
    const w = watchJob(bench.client, job.id);
    await guestRan(job.id, 3); // the disk booted again after each reboot (SeaBIOS may reset once more itself)
    const reported = w.events.filter((e) => e.detail?.guestEvent === 'RESET');
    expect(reported.length).toBeGreaterThanOrEqual(2);
    expect(reported.every((e) => e.state === 'running')).toBe(true);
    expect((await bench.client.call('job.get', { job: job.id })).state).toBe('running');
    await bench.client.call('job.cancel', { job: job.id });
    await w.done;
    expect((await bench.client.call('job.get', { job: job.id })).state).toBe('cancelled');
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });

  it('ends done when the guest powers off (the ordinary end, for contrast)', async () => {
    const disk = await bootDisk('poweroff');
    const job = await bench.client.call('install', request(disk));
    const w = watchJob(bench.client, job.id);
    await w.done;
    expect((await bench.client.call('job.get', { job: job.id })).state).toBe('done');
    expect(w.events.at(-1)?.message).toMatch(/powered off/);
  });
});

describe('a guest that never powers off', () => {
  it('is stopped at the job deadline: the job fails ERR_TIMEOUT naming it, the disk is let go, no QEMU is left', async () => {
    const disk = await bootDisk('halt');
    const job = await bench.client.call('install', request(disk, { deadlineSeconds: 5 }));
    const w = watchJob(bench.client, job.id);
    await guestRan(job.id); // the guest runs (and halts for ever) before the deadline stops it
    await w.done;
    const end = await bench.client.call('job.get', { job: job.id });
    expect(end.state).toBe('failed');
    expect(end.error?.code).toBe('ERR_TIMEOUT');
    expect(end.error?.message).toMatch(/deadline of 5 s/);
    expect(w.events.some((e) => e.state === 'restoring')).toBe(true);
    expect(await pidsWithArg(`guest=xepa-${job.id}`)).toEqual([]);
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });
});

describe('two installs for one disk', () => {
  it('lets exactly one of two racing installs (two controllers) have the disk; the other gets ERR_DEVICE_BUSY', async () => {
    const disk = await bootDisk('halt');
    const other = await bench.h.connect();
    try {
      const results = await Promise.allSettled([bench.client.call('install', request(disk)), other.call('install', request(disk))]);
      const won = results.filter((r): r is PromiseFulfilledResult<JobSummary> => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0]!.reason as XepaError).code).toBe('ERR_DEVICE_BUSY');
      expect((lost[0]!.reason as XepaError).details).toMatchObject({ job: won[0]!.value.id, path: disk.device });
      const jobs = (await bench.client.call('job.list', {})).jobs.filter((j) => j.plan?.disks.some((d) => d.path === disk.device));
      expect(jobs.map((j) => j.id)).toEqual([won[0]!.value.id]);
      const w = watchJob(bench.client, won[0]!.value.id);
      await w.until((e) => e.state === 'running', 'the running state');
      await bench.client.call('job.cancel', { job: won[0]!.value.id });
      await w.done;
    } finally {
      await other.close();
    }
  });

  it('answers retries of one install (same idempotency key) with the same job, across connections and a lost reply', async () => {
    const disk = await bootDisk('halt');
    const before = (await bench.client.call('job.list', {})).jobs.length;
    const key = `retry-${Date.now()}`;
    // First attempt through a proxy that swallows the agent's reply, then drops the connection: the client
    // reconnects and re-sends the in-flight call with the same key.
    const proxy = await startTcpProxy(Number(new URL(bench.h.agent.url).port));
    const flaky = await bench.h.connect({ url: `wss://127.0.0.1:${proxy.port}` });
    try {
      proxy.swallow(true);
      let answered = false;
      const first = flaky.call('install', request(disk), { key });
      void first.then(() => (answered = true), () => undefined);
      // The agent took the install (its job exists) and answered into the void (the proxy dropped bytes from it;
      // the agent's only other traffic on this connection is a ping every 20 s): the reply is really lost.
      const job = await waitFor(
        async () => (await bench.client.call('job.list', {})).jobs.find((j) => j.plan?.disks.some((d) => d.path === disk.device)),
        { timeoutMs: 60_000, intervalMs: 50, what: 'the agent to create the job of the first attempt' },
      );
      await waitFor(() => proxy.swallowed() > 0, { what: "the agent's reply to reach the proxy" });
      expect(answered).toBe(false);
      expect(proxy.connections()).toBe(1);
      proxy.cut();
      proxy.swallow(false);
      const [a, b, c] = await Promise.all([first, bench.client.call('install', request(disk), { key }), bench.client.call('install', request(disk), { key })]);
      // The first attempt's answer can only have come over a second connection: the client re-sent the call.
      expect(proxy.connections()).toBeGreaterThanOrEqual(2);
      expect(a.id).toBe(job.id);
      expect(new Set([a.id, b.id, c.id]).size).toBe(1);
      expect((await bench.client.call('job.list', {})).jobs.length).toBe(before + 1);
      // the same key for a different request is refused, not answered
      expect(await codeOfAsync(bench.client.call('install', request(disk, { cpus: 2 }), { key }))).toBe('ERR_BAD_REQUEST');
      await bench.client.call('job.cancel', { job: a.id });
      await watchJob(bench.client, a.id).done;
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });
});
