import { XepaError, isTerminal, type JobEvent, type JobState } from '../../../agent/protocol/index.js';
import { forUpdate, sqlNow, type SqlDb, type SqlValue } from './sql.js';
import type { StoredEvent } from './types.js';

interface EventRow {
  job_id: string;
  agent_job_id: string;
  seq: number;
  ts: string;
  state: JobState;
  progress: number | null;
  message: string;
  detail: string | null;
  stored_at: number;
  stored_by: string;
}

// Rows per INSERT: 9 parameters each, well under both engines' parameter limits.
const CHUNK = 200;

// Stores a batch of one job's events under `replica`'s lease, in one transaction: the lease is checked (and on
// PostgreSQL its row locked, so a takeover waits for this write and then resumes after it), events already
// stored are skipped by the (job, seq) key, and the job's state follows the highest seq.
export async function appendEvents(db: SqlDb, jobId: string, replica: string, events: readonly JobEvent[]): Promise<{ stored: number; lastSeq: number }> {
  const now = sqlNow(db.dialect);
  return db.tx(async (q) => {
    const [job] = await q.all<{ agent_job_id: string; last_seq: number; lease_owner: string | null; lease_expires: number | null; now: number }>(
      `SELECT agent_job_id, last_seq, lease_owner, lease_expires, ${now} AS now FROM jobs WHERE id = $1${forUpdate(db.dialect)}`,
      [jobId],
    );
    if (!job) throw new XepaError('ERR_NOT_FOUND', `job ${jobId} is not in the store`);
    if (job.lease_owner !== replica || job.lease_expires === null || job.lease_expires < job.now) {
      const holder = job.lease_owner === null ? 'nobody holds it' : job.lease_owner === replica ? 'it expired' : `${job.lease_owner} holds it`;
      throw new XepaError('ERR_LEASE_LOST', `replica ${replica} has no live lease on job ${jobId} (${holder}): its events were not stored`, {
        details: { job: jobId, replica, owner: job.lease_owner },
      });
    }
    const wrong = events.find((e) => e.job !== job.agent_job_id);
    if (wrong) throw new XepaError('ERR_BAD_REQUEST', `event ${wrong.seq} belongs to agent job ${wrong.job}, not ${job.agent_job_id}`);
    let stored = 0;
    for (let i = 0; i < events.length; i += CHUNK) {
      const chunk = events.slice(i, i + CHUNK);
      const params: SqlValue[] = [];
      const rows = chunk.map((e) => {
        params.push(jobId, e.seq, e.ts, e.state, e.progress ?? null, e.message, e.detail === undefined ? null : JSON.stringify(e.detail), replica);
        const n = params.length;
        return `($${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, ${now}, $${n})`;
      });
      stored += await q.run(
        `INSERT INTO job_events (job_id, seq, ts, state, progress, message, detail, stored_at, stored_by)
         VALUES ${rows.join(', ')} ON CONFLICT (job_id, seq) DO NOTHING`,
        params,
      );
    }
    const top = events.reduce<JobEvent | undefined>((a, e) => (a === undefined || e.seq > a.seq ? e : a), undefined);
    if (!top || top.seq <= job.last_seq) return { stored, lastSeq: job.last_seq };
    await q.run(
      `UPDATE jobs SET last_seq = $2, state = $3, updated_at = ${now}, finished_at = ${isTerminal(top.state) ? now : 'finished_at'} WHERE id = $1`,
      [jobId, top.seq, top.state],
    );
    return { stored, lastSeq: top.seq };
  });
}

// A job's stored events with seq > after, in order.
export async function listEvents(db: SqlDb, jobId: string, opts: { after?: number; limit?: number } = {}): Promise<StoredEvent[]> {
  const rows = await db.all<EventRow>(
    `SELECT e.job_id, j.agent_job_id, e.seq, e.ts, e.state, e.progress, e.message, e.detail, e.stored_at, e.stored_by
     FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE e.job_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`,
    [jobId, opts.after ?? 0, opts.limit ?? 10_000],
  );
  return rows.map((r) => {
    const e: StoredEvent = {
      job: r.agent_job_id,
      seq: r.seq,
      ts: r.ts,
      state: r.state,
      message: r.message,
      storedAt: r.stored_at,
      storedBy: r.stored_by,
    };
    if (r.progress !== null) e.progress = r.progress;
    if (r.detail !== null) e.detail = JSON.parse(r.detail) as Record<string, unknown>;
    return e;
  });
}

// The highest seq stored for a job (0 when none): where a replica that takes the job over resumes following.
export async function lastStoredSeq(db: SqlDb, jobId: string): Promise<number> {
  const [row] = await db.all<{ last_seq: number }>('SELECT last_seq FROM jobs WHERE id = $1', [jobId]);
  if (!row) throw new XepaError('ERR_NOT_FOUND', `job ${jobId} is not in the store`);
  return row.last_seq;
}
