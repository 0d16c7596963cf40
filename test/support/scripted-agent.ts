import { mkdtempSync, rmSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ensureTlsIdentity, startAgentServer, type Handlers, type TlsIdentity } from '../../agent/api/index.js';
import { PROTOCOL_VERSION, XepaError, type JobEvent, type JobState, type JobSummary } from '../../agent/protocol/index.js';

// The real agent server (TLS, token check before the upgrade, the control dispatcher) with one scripted job, as
// in bench/load-fake-agents.ts, that also records every job.events subscription: who followed from where, when,
// and how many followed at once. The job starts at the first subscription and then runs to its end whoever
// follows, as a real install does.

/** One job.events subscription as the agent saw it. */
export interface Subscription {
  connectionId: string;
  after: number;
  openedAt: number;
  closedAt?: number;
}

/** A running scripted agent. */
export interface ScriptedAgent {
  agentId: string;
  port: number;
  fingerprint: string;
  emitted: JobEvent[];
  subscriptions: Subscription[];
  maxConcurrent(): number; // the most subscriptions ever open at the same time
  close(): Promise<void>;
}

// Starts the agent on 127.0.0.1 with a job 'job-1' of `events` events `intervalMs` apart, the last one `done`.
// `tls` lets many agents share one identity (a benchmark's hundred agents), each has its own otherwise.
export async function startScriptedAgent(o: {
  trustedKey: KeyObject;
  events: number;
  intervalMs: number;
  agentId?: string;
  tls?: TlsIdentity;
}): Promise<ScriptedAgent> {
  const agentId = o.agentId ?? 'scripted-1';
  const tls = o.tls ?? (await newTlsIdentity());
  const emitted: JobEvent[] = [];
  const subscriptions: Subscription[] = [];
  const listeners = new Set<(e: JobEvent) => void>();
  let open = 0;
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  const states: JobState[] = ['fetching', 'verifying', 'binding', 'booting', 'running'];
  const tick = (): void => {
    const seq = emitted.length + 1;
    const state: JobState = seq === o.events ? 'done' : states[Math.min(states.length - 1, Math.floor(((seq - 1) / o.events) * states.length))]!;
    const e: JobEvent = { job: 'job-1', seq, ts: new Date().toISOString(), state, message: `step ${seq}` };
    emitted.push(e);
    for (const fn of listeners) fn(e);
    if (seq < o.events) timer = setTimeout(tick, o.intervalMs);
  };
  const summary = (): JobSummary => {
    const last = emitted.at(-1);
    const t = new Date(0).toISOString();
    return { id: 'job-1', state: last?.state ?? 'planned', createdAt: t, updatedAt: last?.ts ?? t, lastSeq: emitted.length };
  };
  const table: Partial<Handlers> = {
    hello: async () => ({ protocol: PROTOCOL_VERSION, agentId, version: 'scripted', fingerprint: tls.fingerprint }),
    'job.get': async () => summary(),
    'job.list': async () => ({ jobs: [summary()] }),
    'job.events': async ({ after }, ctx) => {
      const sub: Subscription = { connectionId: ctx.connectionId, after, openedAt: Date.now() };
      subscriptions.push(sub);
      peak = Math.max(peak, ++open);
      const send = (e: JobEvent): void => ctx.send({ event: 'job.event', data: e });
      const replayed = emitted.slice(after);
      for (const e of replayed) send(e);
      listeners.add(send);
      ctx.onClose(() => {
        listeners.delete(send);
        sub.closedAt = Date.now();
        open--;
      });
      if (emitted.length === 0 && timer === undefined) timer = setTimeout(tick, o.intervalMs);
      return { job: 'job-1', replayed: replayed.length, lastSeq: emitted.length };
    },
  };
  const handlers = new Proxy(table as Handlers, {
    get: (t, m: string) => t[m as keyof Handlers] ?? (async () => {
      throw new XepaError('ERR_NOT_FOUND', `${m} is not served by the scripted agent`);
    }),
  });
  const server = await startAgentServer({
    host: '127.0.0.1', port: 0, tls, agentId, fingerprint: tls.fingerprint, trustedKeys: [o.trustedKey],
    log: pino({ level: 'silent' }), version: 'scripted', handlers,
  });
  return {
    agentId,
    port: server.port,
    fingerprint: tls.fingerprint,
    emitted,
    subscriptions,
    maxConcurrent: () => peak,
    close: async () => {
      clearTimeout(timer);
      await server.close();
    },
  };
}

// A fresh TLS identity (key, self-signed certificate, fingerprint) as an agent makes at first start.
export async function newTlsIdentity(): Promise<TlsIdentity> {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-scripted-agent-'));
  try {
    return await ensureTlsIdentity(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
