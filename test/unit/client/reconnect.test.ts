import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, JobState } from '../../../agent/protocol/index.js';
import { IdempotencyCache } from '../../../agent/api/idempotency.js';
import { startAgentServer, type AgentServer } from '../../../agent/api/server.js';
import { connectAgent, type AgentClient, type ClientStatus, type ConnectAgentOptions } from '../../../controller/client/index.js';
import { AGENT_ID, FakeJobs, agentServerOptions, controllerKeys, testIdentity, tokenFor } from '../api/fixtures.js';
import { startTcpProxy as startProxy } from '../../support/tcp-proxy.js';
import { waitFor } from '../../support/wait-for.js';

const keys = controllerKeys();
let jobs: FakeJobs;
let agent: AgentServer;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let fingerprint: string;
const clients: AgentClient[] = [];

beforeAll(async () => {
  const id = await testIdentity();
  fingerprint = id.fingerprint;
  jobs = new FakeJobs();
  agent = await startAgentServer({ ...agentServerOptions(id, keys, jobs.handlers(), 't'), idempotency: new IdempotencyCache() });
  proxy = await startProxy(agent.port);
});
afterEach(async () => {
  proxy.refuse(false);
  for (const c of clients.splice(0)) await c.close();
});
afterAll(async () => {
  await proxy.close();
  await agent.close();
});

async function client(extra: Partial<ConnectAgentOptions> = {}): Promise<{ c: AgentClient; status: ClientStatus[]; tokens: () => number }> {
  const status: ClientStatus[] = [];
  let minted = 0;
  const c = await connectAgent({
    url: `wss://127.0.0.1:${proxy.port}`,
    fingerprint,
    token: () => {
      minted++;
      return tokenFor(keys);
    },
    backoff: { minMs: 10, maxMs: 40 },
    giveUpAfterMs: 2000,
    onStatus: (s) => status.push(s),
    ...extra,
  });
  clients.push(c);
  return { c, status, tokens: () => minted };
}

describe('reconnecting client', () => {
  it('delivers every job event exactly once and in order although the connection drops mid-stream', async () => {
    jobs.replaySlack = 3; // the agent replays a few already-seen events after the reconnect
    const job = 'job-stream';
    jobs.emit(job, 'planned');
    const { c, status, tokens } = await client();
    const got: JobEvent[] = [];
    const done = c.followJob(job, { onEvent: (e) => got.push(e) });
    const states: JobState[] = ['fetching', 'verifying', 'binding', 'booting', 'running', 'stopping', 'restoring'];
    for (const [i, s] of states.entries()) {
      jobs.emit(job, s, `step ${i}`);
      // The first events arrive live (planned + i + 1 of them); then the TCP connection between client and agent
      // drops and the rest are emitted while the client is away: the agent keeps going.
      if (i <= 2) await waitFor(() => got.length === i + 2, { what: `event ${i + 2} to arrive live` });
      if (i === 2) proxy.cut();
    }
    for (let i = 0; i < 10; i++) jobs.emit(job, 'running', `progress ${i}`);
    jobs.emit(job, 'done');
    await done;
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(got.at(-1)?.state).toBe('done');
    expect(status.map((s) => s.state)).toContain('disconnected');
    expect(status.map((s) => s.state)).toContain('reconnected');
    expect(tokens()).toBeGreaterThanOrEqual(2); // a fresh token for the new connection
    jobs.replaySlack = 0;
  });

  it('re-sends an in-flight install with the same idempotency key: the agent runs it once', async () => {
    const { c, status } = await client();
    let open!: () => void;
    jobs.installGate = new Promise<void>((r) => (open = r));
    const before = jobs.installCalls;
    const call = c.call('install', { iso: { url: 'https://x/a.iso', sha256: 'd'.repeat(64) }, disks: [{ serial: 'S' }] }, { key: 'k-resend' });
    await waitFor(() => jobs.installCalls > before, { what: 'the install to reach the agent' });
    expect(jobs.installCalls - before).toBe(1);
    proxy.cut();
    // The client has seen the connection go: the reply the agent gives now is lost, so the answer must come from the re-sent call.
    await waitFor(() => status.some((s) => s.state === 'disconnected'), { what: 'the client to notice the cut' });
    open();
    const summary = await call;
    expect(summary.id).toBe(`job-${jobs.installCalls}`);
    expect(jobs.installCalls - before).toBe(1);
    expect(status.map((s) => s.state)).toContain('reconnected');
  });

  it('resolves followJob for a job that ended before the `after` it was given', async () => {
    const job = 'job-ended';
    jobs.emit(job, 'planned');
    jobs.emit(job, 'done');
    const { c } = await client();
    const got: JobEvent[] = [];
    await c.followJob(job, { after: 2, onEvent: (e) => got.push(e) });
    expect(got).toEqual([]);
  });

  it('fails followJob of an unknown job with the agent error code', async () => {
    const { c } = await client();
    await expect(c.followJob('no-such-job', { onEvent: () => undefined })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('validates replies and turns error replies into XepaError', async () => {
    const { c } = await client();
    await expect(c.call('job.get', { job: 'missing' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(c.call('inventory', {})).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(await c.call('hello', { protocol: 1 })).toMatchObject({ agentId: AGENT_ID });
  });

  it('gives up after the configured time with ERR_CONNECT and says so in its status', async () => {
    const { c, status } = await client({ giveUpAfterMs: 200 });
    proxy.refuse(true);
    proxy.cut();
    await expect(c.call('hello', { protocol: 1 }, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    const last = status.at(-1);
    expect(last?.state).toBe('closed');
    expect(status.filter((s) => s.state === 'reconnecting').length).toBeGreaterThan(1);
  });

  it('stops reconnecting when the token is refused (ERR_UNAUTHORIZED is not a network problem)', async () => {
    const other = controllerKeys();
    let n = 0;
    const { c, status } = await client({ token: () => (n++ === 0 ? tokenFor(keys) : tokenFor(other)) });
    const pending = c.call('hello', { protocol: 1 }, { timeoutMs: 5000 });
    proxy.cut();
    await pending.catch(() => undefined);
    await waitFor(() => status.at(-1)?.state === 'closed', { what: 'the client to give up' });
    const last = status.at(-1);
    expect(last).toMatchObject({ state: 'closed', error: { code: 'ERR_UNAUTHORIZED' } });
  });

  it('times out a call with ERR_TIMEOUT', async () => {
    const { c } = await client();
    jobs.installGate = new Promise(() => undefined);
    await expect(
      c.call('install', { iso: { url: 'https://x/b.iso', sha256: 'e'.repeat(64) }, disks: [{ serial: 'S' }] }, { timeoutMs: 50 }),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    jobs.installGate = Promise.resolve();
  });
});
