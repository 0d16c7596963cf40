import type { Logger } from 'pino';
import { XepaError, isTerminal, type JobEvent } from '../../agent/protocol/index.js';

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
  bytes: number; // JSON size of `events`
  watchers: Set<JobWatcher>;
  ended: boolean;
  error?: unknown;
}

/** Bounds of the hub's memory. */
export interface JobHubLimits {
  maxEventsPerJob: number; // older events are dropped (a browser resuming from before them starts at the oldest)
  maxBytesPerJob: number; // ... and so are they once a job's events take more than this (JSON bytes)
  maxJobs: number; // jobs held at once: live ones, plus ended ones kept for late viewers (evicted oldest first)
}

// Most events kept per job (kept for callers that read it).
export const MAX_EVENTS_PER_JOB = 5000;

// Defaults: a whole install's events (a few hundred) many times over; 4 MiB and 64 jobs put a ceiling of
// ~256 MiB on the worst case and a few MiB on the usual one.
export const DEFAULT_JOB_HUB_LIMITS: JobHubLimits = { maxEventsPerJob: MAX_EVENTS_PER_JOB, maxBytesPerJob: 4 << 20, maxJobs: 64 };

// Follows each job once over the agent's control channel and fans its events out to every browser watching
// it; a browser that (re)connects passes the last seq it saw and gets exactly what it missed. Memory is bounded:
// a job the agent does not know (its follow fails) leaves nothing behind, each job's buffer is capped by count
// and bytes, ended jobs nobody watches are evicted oldest first, and when every slot holds a live job a new
// job is refused (ERR_UNAVAILABLE) rather than grow the hub.
export class JobHub {
  private readonly jobs = new Map<string, Followed>(); // in order of last use
  private readonly limits: JobHubLimits;

  constructor(
    private readonly follow: (job: string, after: number, onEvent: (e: JobEvent) => void) => Promise<void>,
    private readonly log?: Logger,
    limits: Partial<JobHubLimits> = {},
  ) {
    this.limits = { ...DEFAULT_JOB_HUB_LIMITS, ...limits };
  }

  // Delivers every event of `job` with seq > after, then live ones; onEnd when the job has ended. Throws
  // ERR_UNAVAILABLE (before calling the watcher) when the hub holds as many live jobs as it may.
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

  // What the hub holds: jobs, and events and their JSON bytes over all jobs.
  stats(): { jobs: number; events: number; bytes: number } {
    let events = 0;
    let bytes = 0;
    for (const f of this.jobs.values()) (events += f.events.length), (bytes += f.bytes);
    return { jobs: this.jobs.size, events, bytes };
  }

  private followed(job: string): Followed {
    const known = this.jobs.get(job);
    if (known) {
      this.jobs.delete(job); // re-inserted below: most recently used last
      this.jobs.set(job, known);
      return known;
    }
    this.makeRoom();
    const f: Followed = { events: [], bytes: 0, watchers: new Set(), ended: false };
    this.jobs.set(job, f);
    this.follow(job, 0, (e) => {
      if (f.ended) return;
      this.keep(f, e);
      for (const w of f.watchers) w.onEvent(e);
      if (isTerminal(e.state)) this.end(job, f);
    }).then(
      () => this.end(job, f),
      (err: unknown) => {
        this.log?.warn({ job, err }, 'following the job failed');
        this.end(job, f, err);
      },
    );
    return f;
  }

  private keep(f: Followed, e: JobEvent): void {
    const size = Buffer.byteLength(JSON.stringify(e));
    f.events.push(e);
    f.bytes += size;
    let drop = 0;
    let bytes = f.bytes;
    while (f.events.length - drop > this.limits.maxEventsPerJob || (bytes > this.limits.maxBytesPerJob && f.events.length - drop > 1)) {
      bytes -= Buffer.byteLength(JSON.stringify(f.events[drop]));
      drop++;
    }
    if (drop > 0) f.events.splice(0, drop);
    f.bytes = bytes;
  }

  // Evicts ended jobs that nobody watches, oldest first, until a new job fits; refuses when none can go.
  private makeRoom(): void {
    for (const [job, f] of this.jobs) {
      if (this.jobs.size < this.limits.maxJobs) return;
      if (f.ended && f.watchers.size === 0) this.jobs.delete(job);
    }
    if (this.jobs.size >= this.limits.maxJobs) {
      throw new XepaError('ERR_UNAVAILABLE', `the console is following ${this.jobs.size} jobs that are still running; close a console and retry`);
    }
  }

  private end(job: string, f: Followed, error?: unknown): void {
    if (f.ended) return;
    f.ended = true;
    if (error !== undefined) f.error = error;
    for (const w of f.watchers) w.onEnd(error);
    f.watchers.clear();
    // A failed follow (an unknown job id, the agent gone) keeps nothing: the next watcher follows afresh.
    if (error !== undefined && this.jobs.get(job) === f) this.jobs.delete(job);
  }
}
