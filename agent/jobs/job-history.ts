import { mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Plan, isTerminal, type JobEvent, type JobState, type JobSummary, type WireError } from '../protocol/index.js';
import { JobEvent as JobEventSchema, isENOENT } from '../protocol/index.js';
import { JobLog } from './job-log.js';
import type { JobRecord } from './job-record.js';

const META = 'job.json';
const EVENTS = 'events.jsonl';

interface JobMeta {
  id: string;
  createdAt: string;
  plan: Plan;
}

// Writes what a later agent needs to show the job again (atomically: a crash leaves the old file or the new one).
export function writeJobMeta(dir: string, meta: JobMeta): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${META}.tmp`), JSON.stringify(meta), { mode: 0o600 });
  renameSync(join(dir, `${META}.tmp`), join(dir, META));
}

// Appends one event to the job's log on disk.
export const appendJobEvent = (dir: string, e: JobEvent): void => appendFileSync(join(dir, EVENTS), `${JSON.stringify(e)}\n`);

// A job from an earlier run of the agent: read-only, with its full event log.
export class PastJob implements JobRecord {
  readonly done = Promise.resolve();
  constructor(
    private readonly meta: JobMeta,
    readonly events: JobLog,
  ) {}

  get id(): string {
    return this.meta.id;
  }

  get state(): JobState {
    return this.events.events.at(-1)?.state ?? 'failed';
  }

  summary(): JobSummary {
    const last = this.events.events.at(-1);
    const s: JobSummary = {
      id: this.id, state: this.state, createdAt: this.meta.createdAt, updatedAt: last?.ts ?? this.meta.createdAt,
      lastSeq: this.events.lastSeq, plan: this.meta.plan, accel: this.meta.plan.accel,
    };
    const error = last?.detail?.error as WireError | undefined;
    if (error) s.error = error;
    return s;
  }

  cancel(): void {} // already ended
}

// Loads every job left in jobsDir. A job the agent was running when it died is ended `failed` with
// ERR_AGENT_RESTARTED (its devices were restored from the journal before this runs).
export function loadPastJobs(jobsDir: string, o: { log: Logger; now: () => Date }): PastJob[] {
  let ids: string[];
  try {
    ids = readdirSync(jobsDir);
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
  const jobs: PastJob[] = [];
  for (const id of ids.sort()) {
    const dir = join(jobsDir, id);
    try {
      const raw = JSON.parse(readFileSync(join(dir, META), 'utf8')) as JobMeta;
      const meta: JobMeta = { id: raw.id, createdAt: raw.createdAt, plan: Plan.parse(raw.plan) };
      const log = new JobLog(id, (e) => appendJobEvent(dir, e), o.now);
      const { events, torn } = readEventLines(dir);
      log.events.push(...events);
      if (torn) rewriteEvents(dir, events); // so new events never land after a torn line
      if (!isTerminal(log.events.at(-1)?.state ?? 'planned')) {
        const error = { code: 'ERR_AGENT_RESTARTED', message: 'the agent stopped while this job ran; its devices were restored when it started again' };
        log.append('restoring', 'agent restarted: devices restored from the journal');
        log.append('failed', `install failed: ${error.message}`, { detail: { error } });
        o.log.warn({ job: id }, 'job interrupted by an agent restart marked failed');
      }
      jobs.push(new PastJob(meta, log));
    } catch (err) {
      o.log.warn({ job: id, err }, 'cannot read a past job: skipped');
    }
  }
  return jobs;
}

// The events on disk, in order; a torn last line (crash mid-write) is dropped, and seqs must run 1..n.
function readEventLines(dir: string): { events: JobEvent[]; torn: boolean } {
  let text = '';
  try {
    text = readFileSync(join(dir, EVENTS), 'utf8');
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
  const lines = text.split('\n').filter(Boolean);
  const out: JobEvent[] = [];
  for (const line of lines) {
    const parsed = JobEventSchema.safeParse(safeJson(line));
    if (!parsed.success || parsed.data.seq !== out.length + 1) break;
    out.push(parsed.data);
  }
  return { events: out, torn: out.length !== lines.length };
}

function rewriteEvents(dir: string, events: JobEvent[]): void {
  writeFileSync(join(dir, `${EVENTS}.tmp`), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  renameSync(join(dir, `${EVENTS}.tmp`), join(dir, EVENTS));
}

const safeJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};
