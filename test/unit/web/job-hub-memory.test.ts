import { generateKeyPairSync } from 'node:crypto';
import { request, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { XepaError, type JobEvent } from '../../../agent/protocol/index.js';
import { JobHub, createWebConsole, webAssetsFrom, type WebConsole } from '../../../controller/web/index.js';
import { httpRequest, serveHandlers, startFakeAgent } from './fake-agent.js';

// `xepa serve` keeps job events in memory for browsers: job ids the agent does not know leave nothing behind,
// every job's buffer is bounded (count and bytes), and the number of jobs held is bounded too.
const ev = (job: string, seq: number, message = `event ${seq}`, state: JobEvent['state'] = 'running'): JobEvent =>
  ({ job, seq, ts: '2025-01-01T00:00:00Z', state, message });
const notFound = async (job: string): Promise<void> => {
  await Promise.resolve();
  throw new XepaError('ERR_NOT_FOUND', `no job ${job}`);
};
const ignore = { onEvent: () => undefined, onEnd: () => undefined };

describe('the job hub bounds its memory', () => {
  it('keeps nothing for 10 000 job ids the agent does not know, and tells each watcher ERR_NOT_FOUND', async () => {
    const hub = new JobHub(notFound);
    const ends: unknown[] = [];
    for (let i = 0; i < 10_000; i++) {
      hub.watch(`nope-${i}`, 0, { onEvent: () => undefined, onEnd: (e) => ends.push(e) });
      if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // the agent answers as requests come
    }
    await expect.poll(() => ends.length).toBe(10_000);
    expect((ends[0] as XepaError).code).toBe('ERR_NOT_FOUND');
    expect(hub.stats()).toEqual({ jobs: 0, events: 0, bytes: 0 });
  });

  it('refuses a new job (ERR_UNAVAILABLE) rather than grow past maxJobs while every slot is live, and has room once they fail', async () => {
    let fail: () => void = () => undefined;
    const gate = new Promise<void>((r) => (fail = r));
    const hub = new JobHub(async (job) => {
      await gate;
      throw new XepaError('ERR_NOT_FOUND', `no job ${job}`);
    }, undefined, { maxJobs: 4 });
    for (let i = 0; i < 4; i++) hub.watch(`pending-${i}`, 0, ignore);
    let caught: unknown;
    try {
      hub.watch('one-more', 0, { onEvent: () => undefined, onEnd: () => (caught = 'a watcher was called') });
    } catch (err) {
      caught = err;
    }
    expect((caught as XepaError).code).toBe('ERR_UNAVAILABLE');
    expect(hub.stats().jobs).toBe(4);
    fail();
    await expect.poll(() => hub.stats().jobs).toBe(0);
    expect(() => hub.watch('one-more', 0, ignore)).not.toThrow();
  });

  it('caps one job buffer by bytes, keeping the newest events in order', () => {
    let emit: (e: JobEvent) => void = () => undefined;
    const hub = new JobHub((_job, _after, onEvent) => ((emit = onEvent), new Promise<void>(() => undefined)), undefined, { maxBytesPerJob: 64 << 10 });
    hub.watch('big', 0, ignore);
    for (let seq = 1; seq <= 1000; seq++) emit(ev('big', seq, 'x'.repeat(1000)));
    const { bytes, events } = hub.stats();
    expect(bytes).toBeLessThanOrEqual(64 << 10);
    expect(events).toBeGreaterThan(50);
    const late: number[] = [];
    hub.watch('big', 0, { onEvent: (e) => late.push(e.seq), onEnd: () => undefined });
    expect(late.at(-1)).toBe(1000);
    expect(late).toEqual(Array.from({ length: late.length }, (_, i) => 1001 - late.length + i));
  });

  it('caps one job buffer by count', () => {
    let emit: (e: JobEvent) => void = () => undefined;
    const hub = new JobHub((_job, _after, onEvent) => ((emit = onEvent), new Promise<void>(() => undefined)), undefined, { maxEventsPerJob: 10 });
    hub.watch('j', 0, ignore);
    for (let seq = 1; seq <= 25; seq++) emit(ev('j', seq));
    expect(hub.stats().events).toBe(10);
  });

  it('evicts ended jobs, oldest first, to make room; a held one is answered from memory, an evicted one is followed again', async () => {
    const calls: string[] = [];
    const hub = new JobHub(async (job, _after, onEvent) => (calls.push(job), onEvent(ev(job, 1, 'over', 'done'))), undefined, { maxJobs: 3 });
    for (const job of ['a', 'b', 'c', 'd']) hub.watch(job, 0, ignore); // d evicts the oldest ended job, a
    expect(hub.stats().jobs).toBe(3);
    const replay: number[] = [];
    hub.watch('c', 0, { onEvent: (e) => replay.push(e.seq), onEnd: () => undefined });
    expect(replay).toEqual([1]);
    hub.watch('a', 0, ignore);
    expect(calls).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(hub.stats().jobs).toBe(3);
  });
});

describe('GET /api/events of the web console', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('answers 503 ERR_UNAVAILABLE before any event-stream header when the hub is full of live jobs', async () => {
    const fake = await startFakeAgent();
    fake.agent.followJob = () => new Promise<void>(() => undefined); // every job runs for ever
    let web: WebConsole | undefined;
    const { server, port } = await serveHandlers({ request: (req, res) => (web as WebConsole).handleRequest(req, res), upgrade: () => false });
    const origin = `http://127.0.0.1:${port}`;
    const key = generateKeyPairSync('ed25519');
    web = createWebConsole({ agent: fake.agent, publicUrl: origin, secure: false, signingKey: key, assets: webAssetsFrom({}), hubLimits: { maxJobs: 2 } });
    cleanups.push(() => fake.close(), () => closeServer(server), () => web?.close());
    const t = new URL(web.loginLink('view')).searchParams.get('t')!;
    const login = await httpRequest(port, 'POST', '/login', { headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `t=${t}` });
    const cookie = /^([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
    const open = (job: string): Promise<IncomingMessage> => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/api/events?job=${job}`, headers: { Cookie: cookie } }, resolve);
      req.on('error', reject);
      req.end();
    });
    const live = [await open('job-1'), await open('job-2')];
    expect(live.map((r) => [r.statusCode, r.headers['content-type']])).toEqual([[200, 'text/event-stream; charset=utf-8'], [200, 'text/event-stream; charset=utf-8']]);
    const full = await open('job-3');
    const body = await new Promise<string>((r) => {
      let s = '';
      full.on('data', (d: Buffer) => (s += d.toString()));
      full.on('end', () => r(s));
    });
    expect(JSON.parse(body)).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect(full.statusCode).toBe(503);
    for (const r of live) r.destroy();
  });
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
