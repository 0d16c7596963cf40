import { randomUUID } from 'node:crypto';
import { XepaError, type JobState } from '../../../agent/protocol/index.js';
import { sqlNow, type SqlDb, type SqlValue } from './sql.js';
import type { JobInput, JobRecord, Lease } from './types.js';

export interface JobRow {
  id: string;
  agent_id: string;
  agent_job_id: string;
  request: string;
  state: JobState;
  last_seq: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  lease_owner: string | null;
  lease_expires: number | null;
  lease_epoch: number;
}

const COLUMNS = 'id, agent_id, agent_job_id, request, state, last_seq, created_at, updated_at, finished_at, lease_owner, lease_expires, lease_epoch';

const toJob = (r: JobRow): JobRecord => ({
  id: r.id,
  agentId: r.agent_id,
  agentJobId: r.agent_job_id,
  request: JSON.parse(r.request) as Record<string, unknown>,
  state: r.state,
  lastSeq: r.last_seq,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  lease: r.lease_owner === null || r.lease_expires === null ? null : { owner: r.lease_owner, expiresAt: r.lease_expires, epoch: r.lease_epoch },
});

interface LeaseRow {
  lease_owner: string;
  lease_expires: number;
  lease_epoch: number;
}
const toLease = (r: LeaseRow | undefined): Lease | null => (r ? { owner: r.lease_owner, expiresAt: r.lease_expires, epoch: r.lease_epoch } : null);

// Records a job of an agent; the same (agent, agent job id) again returns the stored job unchanged.
export async function recordJob(db: SqlDb, input: JobInput): Promise<JobRecord> {
  const now = sqlNow(db.dialect);
  return db.tx(async (q) => {
    const agent = await q.all('SELECT id FROM agents WHERE id = $1', [input.agentId]);
    if (agent.length === 0) throw new XepaError('ERR_NOT_FOUND', `agent ${input.agentId} is not in the registry`);
    await q.run(
      `INSERT INTO jobs (id, agent_id, agent_job_id, request, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, ${now}, ${now}) ON CONFLICT (agent_id, agent_job_id) DO NOTHING`,
      [input.id ?? randomUUID(), input.agentId, input.agentJobId, JSON.stringify(input.request ?? {}), input.state ?? 'planned'],
    );
    const [row] = await q.all<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE agent_id = $1 AND agent_job_id = $2`, [input.agentId, input.agentJobId]);
    return toJob(row!);
  });
}

export async function getJob(db: SqlDb, id: string): Promise<JobRecord | null> {
  const [row] = await db.all<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return row ? toJob(row) : null;
}

export async function findJob(db: SqlDb, agentId: string, agentJobId: string): Promise<JobRecord | null> {
  const [row] = await db.all<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE agent_id = $1 AND agent_job_id = $2`, [agentId, agentJobId]);
  return row ? toJob(row) : null;
}

// Jobs newest first, optionally of one agent and/or only the unfinished ones.
export async function listJobs(db: SqlDb, filter: { agentId?: string; active?: boolean; limit?: number } = {}): Promise<JobRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.agentId !== undefined) {
    params.push(filter.agentId);
    where.push(`agent_id = $${params.length}`);
  }
  if (filter.active !== undefined) where.push(filter.active ? 'finished_at IS NULL' : 'finished_at IS NOT NULL');
  params.push(filter.limit ?? 1000);
  const sql = `SELECT ${COLUMNS} FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT $${params.length}`;
  return (await db.all<JobRow>(sql, params)).map(toJob);
}

// One statement decides who wins: the row is updated only when nobody holds a live lease or `replica` does, so
// of two replicas racing, PostgreSQL's row lock makes the second re-check the condition against the first's
// write, and SQLite's single writer runs them one after the other. The epoch grows when the owner changes.
export async function acquireJobLease(db: SqlDb, jobId: string, replica: string, ttlMs: number): Promise<Lease | null> {
  const now = sqlNow(db.dialect);
  const [row] = await db.all<LeaseRow>(
    `UPDATE jobs SET lease_owner = $2, lease_expires = ${now} + $3,
       lease_epoch = lease_epoch + CASE WHEN lease_owner = $2 THEN 0 ELSE 1 END
     WHERE id = $1 AND finished_at IS NULL AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires < ${now})
     RETURNING lease_owner, lease_expires, lease_epoch`,
    [jobId, replica, ttlMs],
  );
  return toLease(row);
}

// Extends `replica`'s lease if it is still live: an expired lease is lost even if nobody took it yet (the replica
// may have been stalled; it must acquire again, which re-reads where to resume).
export async function renewLease(db: SqlDb, jobId: string, replica: string, ttlMs: number): Promise<Lease | null> {
  const now = sqlNow(db.dialect);
  const [row] = await db.all<LeaseRow>(
    `UPDATE jobs SET lease_expires = ${now} + $3 WHERE id = $1 AND lease_owner = $2 AND lease_expires >= ${now}
     RETURNING lease_owner, lease_expires, lease_epoch`,
    [jobId, replica, ttlMs],
  );
  return toLease(row);
}

export async function releaseLease(db: SqlDb, jobId: string, replica: string): Promise<boolean> {
  return (await db.run('UPDATE jobs SET lease_owner = NULL, lease_expires = NULL WHERE id = $1 AND lease_owner = $2', [jobId, replica])) > 0;
}

// Unfinished jobs nobody holds a live lease on, oldest first.
export async function drivableJobs(db: SqlDb, limit = 100): Promise<JobRecord[]> {
  const now = sqlNow(db.dialect);
  const rows = await db.all<JobRow>(
    `SELECT ${COLUMNS} FROM jobs WHERE finished_at IS NULL AND (lease_owner IS NULL OR lease_expires < ${now})
     ORDER BY created_at, id LIMIT $1`,
    [limit],
  );
  return rows.map(toJob);
}
