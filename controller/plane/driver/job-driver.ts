import type { Logger } from 'pino';
import { XepaError, isXepaError, type JobEvent } from '../../../agent/protocol/index.js';
import type { AgentRecord, Store } from '../store/index.js';

/** The part of an agent connection a driver uses (controller/client's AgentClient has it). */
export interface AgentLink {
  followJob(job: string, opts: { after?: number; onEvent: (e: JobEvent) => void }): Promise<void>;
  close(): Promise<void>;
}

/** What drives a job: the store, this replica's name, how to reach an agent, and the lease timing. */
export interface JobDriverDeps {
  store: Store;
  replica: string;
  connect(agent: AgentRecord): Promise<AgentLink>;
  leaseTtlMs?: number; // default 15 s: how long the job waits for a replica that died
  renewEveryMs?: number; // default a third of the ttl
  log?: Logger;
}

/** How driving a job ended. */
export type DriveOutcome =
  | { outcome: 'finished'; lastSeq: number } // the terminal event is stored; the lease is released
  | { outcome: 'busy' } // another replica holds the job
  | { outcome: 'lost'; lastSeq: number } // the lease ran out or was taken over: this replica stopped at once
  | { outcome: 'failed'; error: XepaError; lastSeq: number }; // the agent could not be followed; the lease is released

// Drives one job on this replica: takes its lease, resumes following the agent from the last stored seq, stores
// every event under the lease (batched: what arrives while a write runs goes in the next), renews the lease while
// it runs, and stops following the moment the lease is lost. An event is stored at most once (the store skips
// known seqs) and none is lost (a replica taking over resumes from what was stored, and the agent replays the rest).
export async function driveJob(deps: JobDriverDeps, jobId: string): Promise<DriveOutcome> {
  const { store, replica } = deps;
  const ttl = deps.leaseTtlMs ?? 15_000;
  const log = deps.log?.child({ job: jobId, replica });
  if (!(await store.acquireJobLease(jobId, replica, ttl))) return { outcome: 'busy' };
  let lastSeq = await store.lastStoredSeq(jobId);
  let lost = false;
  let link: AgentLink | undefined;
  let failure: unknown;
  const lose = (why: string): void => {
    if (lost) return;
    lost = true;
    log?.warn({ why }, 'lease lost: stopping');
    void link?.close();
  };
  const renewal = setInterval(() => {
    store.renewLease(jobId, replica, ttl).then(
      (lease) => lease === null && lose('renewal refused'),
      (err: unknown) => log?.warn({ err: String(err) }, 'lease renewal failed'), // the next one may succeed; expiry decides
    );
  }, deps.renewEveryMs ?? Math.floor(ttl / 3));

  let buffer: JobEvent[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    writing = writing.then(async () => {
      if (lost || buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      try {
        lastSeq = (await store.appendEvents(jobId, replica, batch)).lastSeq;
      } catch (err) {
        if (isXepaError(err, 'ERR_LEASE_LOST')) return lose(err.message);
        failure = err;
        void link?.close();
      }
    });
    return writing;
  };

  try {
    const job = await store.getJob(jobId);
    const agent = job && (await store.getAgent(job.agentId));
    if (!job || !agent) throw new XepaError('ERR_NOT_FOUND', `job ${jobId} or its agent is not in the store`);
    log?.info({ after: lastSeq, agent: agent.id }, 'driving');
    link = await deps.connect(agent);
    if (lost) await link.close();
    else {
      await link.followJob(job.agentJobId, {
        after: lastSeq,
        onEvent: (e) => {
          buffer.push(e);
          void flush();
        },
      }).catch((err: unknown) => {
        if (!lost) failure ??= err;
      });
    }
    await flush();
  } catch (err) {
    failure ??= err;
  } finally {
    clearInterval(renewal);
    await writing;
    await link?.close().catch(() => undefined);
  }
  if (lost) return { outcome: 'lost', lastSeq };
  await store.releaseLease(jobId, replica);
  if (failure !== undefined) {
    const error = failure instanceof XepaError ? failure : new XepaError('ERR_INTERNAL', String(failure), { cause: failure });
    log?.warn({ code: error.code, err: error.message }, 'job could not be followed');
    return { outcome: 'failed', error, lastSeq };
  }
  return { outcome: 'finished', lastSeq };
}
