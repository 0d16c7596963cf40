// Shared test fixtures for the agent API and controller client tests: a silent logger, a TLS identity,
// controller keys, and a fake job store with a complete handler table (the cuttable TCP proxy is test/support/tcp-proxy.ts).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach } from 'vitest';
import { XepaError, signToken, type JobEvent, type JobState, type JobSummary, type Scope } from '../../../agent/protocol/index.js';
import { ensureTlsIdentity, type TlsIdentity } from '../../../agent/api/tls-identity.js';
import type { CallContext, Handlers } from '../../../agent/api/control.js';
import type { AgentServerOptions } from '../../../agent/api/server.js';

export const silentLog = (): Logger => pino({ level: 'silent' });

export const AGENT_ID = 'agent-test-1';

// A temporary directory removed by the returned cleanup.
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'xepa-api-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

// For a test file: a maker of fresh temporary directories, every one removed after each test.
export function tempDirs(): () => Promise<string> {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  return async () => {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
}

let identity: Promise<TlsIdentity> | undefined;
// One TLS identity per test file (key generation is cheap, but there is no need to repeat it).
export function testIdentity(): Promise<TlsIdentity> {
  identity ??= tempDir().then(async ({ dir, cleanup }) => {
    const id = await ensureTlsIdentity(dir);
    await cleanup();
    return id;
  });
  return identity;
}

export interface ControllerPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}
export const controllerKeys = (): ControllerPair => generateKeyPairSync('ed25519');

// Signs a token for the test agent.
export const tokenFor = (k: ControllerPair, scope: Scope[] = ['control'], extra: { aud?: string; ttlSeconds?: number; now?: number } = {}): string =>
  signToken(k.privateKey, { aud: extra.aud ?? AGENT_ID, scope, ttlSeconds: extra.ttlSeconds ?? 60, now: extra.now });

const notHere = (what: string) => async (): Promise<never> => {
  throw new XepaError('ERR_NOT_FOUND', `${what} is not part of this test`);
};

// A tiny in-memory job store standing in for agent/jobs: emit() appends an event and pushes it to subscribers.
export class FakeJobs {
  readonly events = new Map<string, JobEvent[]>();
  private readonly subs = new Map<string, Set<(e: JobEvent) => void>>();
  installCalls = 0;
  replaySlack = 0; // replays this many events before `after`, like a sloppy agent, to exercise client dedupe
  installGate: Promise<void> = Promise.resolve();

  emit(job: string, state: JobState, message: string = state): JobEvent {
    const list = this.events.get(job) ?? [];
    this.events.set(job, list);
    const e: JobEvent = { job, seq: list.length + 1, ts: new Date().toISOString(), state, message };
    list.push(e);
    for (const fn of this.subs.get(job) ?? []) fn(e);
    return e;
  }

  summary(job: string): JobSummary {
    const list = this.events.get(job);
    if (!list) throw new XepaError('ERR_NOT_FOUND', `no job ${job}`);
    const last = list.at(-1);
    const t = new Date(0).toISOString();
    return { id: job, state: last?.state ?? 'planned', createdAt: t, updatedAt: t, lastSeq: list.length };
  }

  handlers(overrides: Partial<Handlers> = {}): Handlers {
    const base: Handlers = {
      hello: async (p) => ({ protocol: p.protocol, agentId: AGENT_ID, version: 'test', fingerprint: 'AA' }),
      inventory: notHere('inventory'),
      plan: notHere('plan'),
      install: async () => {
        this.installCalls++;
        await this.installGate;
        const job = `job-${this.installCalls}`;
        this.emit(job, 'planned');
        return this.summary(job);
      },
      'job.get': async (p) => this.summary(p.job),
      'job.list': async () => ({ jobs: [...this.events.keys()].map((j) => this.summary(j)) }),
      'job.events': async (p, ctx: CallContext) => {
        const list = this.events.get(p.job);
        if (!list) throw new XepaError('ERR_NOT_FOUND', `no job ${p.job}`);
        const from = Math.max(0, p.after - this.replaySlack);
        const replay = list.filter((e) => e.seq > from);
        for (const e of replay) ctx.send({ event: 'job.event', data: e });
        const fn = (e: JobEvent): void => ctx.send({ event: 'job.event', data: e });
        const set = this.subs.get(p.job) ?? new Set();
        this.subs.set(p.job, set);
        set.add(fn);
        ctx.onClose(() => set.delete(fn));
        return { job: p.job, replayed: replay.length, lastSeq: list.length };
      },
      'job.cancel': async (p) => this.summary(p.job),
      'job.backup': notHere('job.backup'),
      finish: notHere('finish'),
      'disk.restore-partition-table': notHere('disk.restore-partition-table'),
    };
    return { ...base, ...overrides };
  }
}

// The options every in-process test agent server starts with: TLS on 127.0.0.1 on a free port, the test identity,
// one trusted controller key, a silent log; a test spreads them and adds or overrides the rest.
export function agentServerOptions(id: TlsIdentity, keys: ControllerPair, handlers: Handlers, version = 'test'): AgentServerOptions {
  return { host: '127.0.0.1', port: 0, tls: id, agentId: AGENT_ID, fingerprint: id.fingerprint, trustedKeys: [keys.publicKey], handlers, log: silentLog(), version };
}
