import type { Logger } from 'pino';
import { XepaError, isTerminal, type JobEvent, type JobSummary, type Result } from '../../agent/protocol/index.js';

/** What the followers need from the connection. */
export interface FollowerDeps {
  subscribe(job: string, after: number): Promise<Result<'job.events'>>; // not re-sent on reconnect
  getJob(job: string): Promise<JobSummary>;
  log?: Logger;
}

interface Follow {
  job: string;
  lastSeq: number;
  onEvent: (e: JobEvent) => void;
  resolve(): void;
  reject(e: unknown): void;
}

// The jobs a client follows: delivers each event once and in order (dedupe by seq), resubscribes with
// `after` = last seq seen on every new connection, and settles each follow on the job's terminal state.
export class JobFollowers {
  private readonly follows = new Map<string, Follow>();
  private connected = false;

  constructor(private readonly deps: FollowerDeps) {}

  // Starts following a job; resolves on its terminal event.
  follow(job: string, after: number, onEvent: (e: JobEvent) => void): Promise<void> {
    if (this.follows.has(job)) return Promise.reject(new XepaError('ERR_BAD_REQUEST', `job ${job} is already being followed`));
    return new Promise<void>((resolve, reject) => {
      const f: Follow = { job, lastSeq: after, onEvent, resolve, reject };
      this.follows.set(job, f);
      if (this.connected) this.subscribe(f);
    });
  }

  // Hands an incoming event to its follower, unless it was already delivered.
  deliver(e: JobEvent): void {
    const f = this.follows.get(e.job);
    if (!f || e.seq <= f.lastSeq) return;
    if (e.seq !== f.lastSeq + 1) this.deps.log?.warn({ job: e.job, from: f.lastSeq, to: e.seq }, 'job events missing');
    f.lastSeq = e.seq;
    try {
      f.onEvent(e);
    } catch (err) {
      this.settle(f, err);
      return;
    }
    if (isTerminal(e.state)) this.settle(f);
  }

  // A (new) connection is up: subscribe every follow from the last seq it saw.
  resubscribe(): void {
    this.connected = true;
    for (const f of this.follows.values()) this.subscribe(f);
  }

  // The connection dropped: subscriptions are redone by the next resubscribe().
  disconnected(): void {
    this.connected = false;
  }

  // Fails every follow (the client is closed or gave up).
  failAll(err: XepaError): void {
    for (const f of [...this.follows.values()]) this.settle(f, err);
  }

  private subscribe(f: Follow): void {
    this.deps.subscribe(f.job, f.lastSeq).then(
      async (res) => {
        if (this.follows.get(f.job) !== f || res.lastSeq > f.lastSeq) return;
        // Nothing newer than what we saw: the job may have ended before `after` (e.g. a late follow).
        const job = await this.deps.getJob(f.job);
        if (this.follows.get(f.job) === f && isTerminal(job.state) && job.lastSeq <= f.lastSeq) this.settle(f);
      },
      (err: unknown) => {
        if (this.follows.get(f.job) === f) this.settle(f, err);
      },
    ).catch((err: unknown) => {
      if (this.follows.get(f.job) === f) this.settle(f, err);
    });
  }

  private settle(f: Follow, err?: unknown): void {
    if (this.follows.get(f.job) !== f) return;
    this.follows.delete(f.job);
    if (err === undefined) f.resolve();
    else f.reject(err);
  }
}
