import type { Logger } from 'pino';
import { isTerminal, type JobEvent } from '../../agent/protocol/index.js';

/** A browser's subscription to one job's events. */
export interface JobWatch {
  close(): void;
}

/** What the hub does with a watcher: events in order, then `end` once the job is over (or following failed). */
export interface JobWatcher {
  onEvent(e: JobEvent): void;
  onEnd(error?: unknown): void;
}

interface Followed {
  events: JobEvent[];
  watchers: Set<JobWatcher>;
  ended: boolean;
  error?: unknown;
}

// Most events kept per job; older ones are dropped (a browser resuming from before them starts at the oldest).
export const MAX_EVENTS_PER_JOB = 5000;

// Follows each job once over the agent's control channel and fans its events out to every browser watching
// it; a browser that (re)connects passes the last seq it saw and gets exactly what it missed.
export class JobHub {
  private readonly jobs = new Map<string, Followed>();

  constructor(
    private readonly follow: (job: string, after: number, onEvent: (e: JobEvent) => void) => Promise<void>,
    private readonly log?: Logger,
  ) {}

  // Delivers every event of `job` with seq > after, then live ones; onEnd when the job has ended.
  watch(job: string, after: number, w: JobWatcher): JobWatch {
    const f = this.followed(job);
    for (const e of f.events) if (e.seq > after) w.onEvent(e);
    if (f.ended) {
      w.onEnd(f.error);
      return { close: () => undefined };
    }
    f.watchers.add(w);
    return { close: () => void f.watchers.delete(w) };
  }

  private followed(job: string): Followed {
    const known = this.jobs.get(job);
    if (known && !(known.ended && known.error !== undefined)) return known; // a failed follow is retried
    const f: Followed = { events: [], watchers: new Set(), ended: false };
    this.jobs.set(job, f);
    this.follow(job, 0, (e) => {
      f.events.push(e);
      if (f.events.length > MAX_EVENTS_PER_JOB) f.events.shift();
      for (const w of f.watchers) w.onEvent(e);
      if (isTerminal(e.state)) this.end(f);
    }).then(
      () => this.end(f),
      (err: unknown) => {
        this.log?.warn({ job, err }, 'following the job failed');
        this.end(f, err);
      },
    );
    return f;
  }

  private end(f: Followed, error?: unknown): void {
    if (f.ended) return;
    f.ended = true;
    if (error !== undefined) f.error = error;
    for (const w of f.watchers) w.onEnd(error);
    f.watchers.clear();
  }
}
