import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateControllerKeys, loadControllerKey, mintToken, type ControllerKey } from '../../../../controller/auth/index.js';
import { connectAgent, type AgentClient } from '../../../../controller/client/index.js';
import { startLocalAgent, type LocalAgent } from '../../../../controller/demo/local-agent.js';
import { PROTOCOL_VERSION, isTerminal, type JobEvent, type JobState } from '../../../../agent/protocol/index.js';
import { requireBundle } from '../../../support/paths.js';

// The real agent bundle as a child process (TCG, loopback), the controller key that it trusts, and clients.

/** An agent under test and how to reach it. */
export interface Harness {
  agent: LocalAgent;
  keyDir: string;
  key: ControllerKey;
  stateDir: string;
  connect(opts?: { url?: string }): Promise<AgentClient>;
  restart(): Promise<LocalAgent>; // start a new agent process on the same state directory
}

// Generates a controller key pair under `work` and starts the agent bundle with a state directory there. The
// tests' ISO servers listen on loopback, which an agent refuses unless allowed: allowLocalIsoUrls (default on here).
export async function startHarness(work: string, o: { allowLocalIsoUrls?: boolean } = {}): Promise<Harness> {
  const keyDir = join(work, 'controller');
  const keys = await generateControllerKeys(keyDir);
  const key = await loadControllerKey(keyDir);
  const stateDir = join(work, 'agent');
  const start = (): Promise<LocalAgent> =>
    startLocalAgent({
      bundle: requireBundle(),
      stateDir,
      trustedKeyFile: keys.publicKeyPath,
      extraArgs: ['--accel', 'tcg', ...(o.allowLocalIsoUrls === false ? [] : ['--allow-local-iso-urls'])],
    });
  const h: Harness = {
    agent: await start(),
    keyDir,
    key,
    stateDir,
    connect: async (opts = {}) => {
      const client = await connectAgent({
        url: opts.url ?? h.agent.url,
        fingerprint: h.agent.fingerprint,
        token: () => mintToken(key.privateKey, { agentId: h.agent.agentId, scope: ['control'], ttlSeconds: 120 }),
        backoff: { minMs: 200, maxMs: 1000 },
      });
      await client.call('hello', { protocol: PROTOCOL_VERSION, client: 'reliability-test' });
      return client;
    },
    restart: async () => (h.agent = await start()),
  };
  return h;
}

/** The events of one job as a client follows them. */
export interface JobWatch {
  events: JobEvent[];
  done: Promise<void>; // the job reached a terminal state
  until(pred: (e: JobEvent) => boolean, what: string, timeoutMs?: number): Promise<JobEvent>;
  states(): JobState[];
}

// Follows a job (seq > 0) and lets a test wait for the event it needs.
export function watchJob(client: AgentClient, job: string): JobWatch {
  const events: JobEvent[] = [];
  const waiters = new Set<() => void>();
  const done = client.followJob(job, {
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
  });
  done.catch(() => undefined);
  return {
    events,
    done,
    states: () => events.map((e) => e.state),
    until: (pred, what, timeoutMs = 120_000) =>
      new Promise<JobEvent>((resolve, reject) => {
        const check = (): void => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          } else if (events.some((e) => isTerminal(e.state))) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`job ${job} ended (${events.at(-1)?.state}: ${events.at(-1)?.message}) before ${what}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs} ms; events: ${events.map((e) => `${e.state}:${e.message}`).join(' | ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** A small random file standing in for an ISO, with its digest. */
export interface FakeIso {
  body: Buffer;
  sha256: string;
}

// Random bytes (a different digest each time, so the agent's ISO cache never short-cuts a download).
export function fakeIso(bytes = 1 << 20): FakeIso {
  const body = randomBytes(bytes);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}
