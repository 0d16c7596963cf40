import { type JobEvent, type JobState, redactUrlsDeep, redactUrlsIn } from '../protocol/index.js';

// The ordered, gap-free event log of one job; subscribers get every event appended after they subscribe.
export class JobLog {
  readonly events: JobEvent[] = [];
  private readonly subscribers = new Set<(e: JobEvent) => void>();

  constructor(
    readonly job: string,
    private readonly persist: (e: JobEvent) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  // Appends an event with the next seq, persists it, then hands it to every subscriber. Every URL in the message
  // and the detail is redacted here, the one door to the disk log and every client (issue 11, item 3).
  append(state: JobState, message: string, extra: { progress?: number; detail?: Record<string, unknown> } = {}): JobEvent {
    const e: JobEvent = { job: this.job, seq: this.events.length + 1, ts: this.now().toISOString(), state, message: redactUrlsIn(message) };
    if (extra.progress !== undefined) e.progress = Math.min(1, Math.max(0, extra.progress));
    if (extra.detail !== undefined) e.detail = redactUrlsDeep(extra.detail);
    this.events.push(e);
    this.persist(e);
    for (const fn of this.subscribers) fn(e);
    return e;
  }

  // Events with seq > after, in order.
  since(after: number): JobEvent[] {
    return this.events.slice(Math.max(0, after));
  }

  get lastSeq(): number {
    return this.events.length;
  }

  // Replays what came after `after` and subscribes to what comes next, with no gap and no duplicate.
  follow(after: number, fn: (e: JobEvent) => void): () => void {
    for (const e of this.since(after)) fn(e);
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
