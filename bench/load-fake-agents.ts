import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ensureTlsIdentity, startAgentServer, type CallContext, type Handlers } from '../agent/api/index.js';
import { PROTOCOL_VERSION, XepaError, parsePublicKey, type JobEvent, type JobState, type JobSummary } from '../agent/protocol/index.js';
import { answer } from './load-child.js';

// Role: many lightweight fake agents in one process, each the real agent server (TLS, token check before the
// upgrade, the real control dispatcher) with a handler table that runs one fake job. The job starts emitting when
// its first follower subscribes: `events` events, `intervalMs` apart, the last one `done`; each event carries its
// send time (detail.t, ms since the epoch with fractions) so the controller can measure delivery latency.

/** One fake agent's job. */
class FakeJob {
  readonly events: JobEvent[] = [];
  private readonly subscribers = new Set<(e: JobEvent) => void>();
  private started = false;

  constructor(private readonly count: number, private readonly intervalMs: number) {}

  summary(): JobSummary {
    const last = this.events.at(-1);
    const t = new Date(0).toISOString();
    return { id: 'job-1', state: last?.state ?? 'planned', createdAt: t, updatedAt: last?.ts ?? t, lastSeq: this.events.length };
  }

  follow(after: number, fn: (e: JobEvent) => void): () => void {
    for (const e of this.events.slice(after)) fn(e);
    this.subscribers.add(fn);
    if (!this.started) this.start();
    return () => this.subscribers.delete(fn);
  }

  private start(): void {
    this.started = true;
    const states: JobState[] = ['fetching', 'verifying', 'binding', 'booting', 'running'];
    const tick = (): void => {
      const seq = this.events.length + 1;
      const state: JobState = seq === this.count ? 'done' : states[Math.min(states.length - 1, Math.floor(((seq - 1) / this.count) * states.length))]!;
      const e: JobEvent = { job: 'job-1', seq, ts: new Date().toISOString(), state, message: `step ${seq}`, detail: { t: performance.timeOrigin + performance.now() } };
      this.events.push(e);
      for (const fn of this.subscribers) fn(e);
      if (seq < this.count) setTimeout(tick, this.intervalMs);
    };
    setTimeout(tick, Math.random() * this.intervalMs); // agents do not tick in lockstep
  }
}

function handlersFor(agentId: string, fingerprint: string, job: FakeJob): Handlers {
  const table: Partial<Handlers> = {
    hello: async () => ({ protocol: PROTOCOL_VERSION, agentId, version: 'fake', fingerprint }),
    'job.get': async () => job.summary(),
    'job.list': async () => ({ jobs: [job.summary()] }),
    'job.events': async ({ after }, ctx: CallContext) => {
      const replayed = Math.max(0, job.events.length - after);
      const stop = job.follow(after, (e) => ctx.send({ event: 'job.event', data: e }));
      ctx.onClose(stop);
      return { job: 'job-1', replayed, lastSeq: job.events.length };
    },
  };
  return new Proxy(table as Handlers, {
    get: (t, m: string) => t[m as keyof Handlers] ?? (async () => {
      throw new XepaError('ERR_NOT_FOUND', `${m} is not served by a fake agent`);
    }),
  });
}

// Role entry: starts XEPA_FAKE_AGENTS servers and prints { ports, fingerprint }; runs until killed.
export async function fakeAgentsRole(): Promise<void> {
  const n = Number(process.env.XEPA_FAKE_AGENTS ?? 500);
  const events = Number(process.env.XEPA_FAKE_EVENTS ?? 20);
  const intervalMs = Number(process.env.XEPA_FAKE_INTERVAL_MS ?? 500);
  const key = parsePublicKey(process.env.XEPA_FAKE_KEY ?? '');
  const dir = mkdtempSync(join(tmpdir(), 'xepa-fake-agents-'));
  const tls = await ensureTlsIdentity(dir);
  rmSync(dir, { recursive: true, force: true });
  const log = pino({ level: 'silent' });
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const agentId = `fake-${i}`;
    const server = await startAgentServer({
      host: '127.0.0.1', port: 0, tls, agentId, fingerprint: tls.fingerprint, trustedKeys: [key], log, version: 'fake',
      handlers: handlersFor(agentId, tls.fingerprint, new FakeJob(events, intervalMs)), pingIntervalMs: 60_000,
    });
    ports.push(server.port);
  }
  answer({ ports, fingerprint: tls.fingerprint });
}
