import { XepaError } from '../../../agent/protocol/index.js';
import { sqlNow, type SqlDb, type SqlValue } from './sql.js';
import type { AuditEntry, ScreenshotRecord } from './types.js';

// A job's finish report: one per job, replaced when finish runs again.
export async function putFinishReport(db: SqlDb, jobId: string, report: Record<string, unknown>): Promise<void> {
  const now = sqlNow(db.dialect);
  await requireJob(db, jobId);
  await db.run(
    `INSERT INTO finish_reports (job_id, report, created_at) VALUES ($1, $2, ${now})
     ON CONFLICT (job_id) DO UPDATE SET report = excluded.report, created_at = excluded.created_at`,
    [jobId, JSON.stringify(report)],
  );
}

export async function getFinishReport(db: SqlDb, jobId: string): Promise<{ report: Record<string, unknown>; createdAt: number } | null> {
  const [row] = await db.all<{ report: string; created_at: number }>('SELECT report, created_at FROM finish_reports WHERE job_id = $1', [jobId]);
  return row ? { report: JSON.parse(row.report) as Record<string, unknown>, createdAt: row.created_at } : null;
}

interface ScreenshotRow {
  id: number;
  job_id: string;
  seq: number | null;
  taken_at: number;
  mime: string;
  bytes: number;
  sha256: string;
  location: string;
}
const toScreenshot = (r: ScreenshotRow): ScreenshotRecord => ({
  id: r.id, jobId: r.job_id, seq: r.seq, takenAt: r.taken_at, mime: r.mime, bytes: r.bytes, sha256: r.sha256, location: r.location,
});
const SHOT_COLUMNS = 'id, job_id, seq, taken_at, mime, bytes, sha256, location';

// Records a screenshot's metadata; the same image (digest) of the same job is recorded once.
export async function addScreenshot(db: SqlDb, s: Omit<ScreenshotRecord, 'id'>): Promise<ScreenshotRecord> {
  await requireJob(db, s.jobId);
  await db.run(
    `INSERT INTO screenshots (job_id, seq, taken_at, mime, bytes, sha256, location) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (job_id, sha256) DO NOTHING`,
    [s.jobId, s.seq, s.takenAt, s.mime, s.bytes, s.sha256, s.location],
  );
  const [row] = await db.all<ScreenshotRow>(`SELECT ${SHOT_COLUMNS} FROM screenshots WHERE job_id = $1 AND sha256 = $2`, [s.jobId, s.sha256]);
  return toScreenshot(row!);
}

export async function listScreenshots(db: SqlDb, jobId: string): Promise<ScreenshotRecord[]> {
  return (await db.all<ScreenshotRow>(`SELECT ${SHOT_COLUMNS} FROM screenshots WHERE job_id = $1 ORDER BY taken_at, id`, [jobId])).map(toScreenshot);
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}
const toAudit = (r: AuditRow): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
});

// Appends to the audit log, stamped with the database's clock.
export async function audit(db: SqlDb, e: Omit<AuditEntry, 'id' | 'at' | 'detail'> & { detail?: Record<string, unknown> }): Promise<AuditEntry> {
  const [row] = await db.all<AuditRow>(
    `INSERT INTO audit_log (at, actor, action, target, detail) VALUES (${sqlNow(db.dialect)}, $1, $2, $3, $4)
     RETURNING id, at, actor, action, target, detail`,
    [e.actor, e.action, e.target, e.detail === undefined ? null : JSON.stringify(e.detail)],
  );
  return toAudit(row!);
}

// The audit log newest first, optionally of one target and/or one actor.
export async function listAudit(db: SqlDb, filter: { target?: string; actor?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  for (const [column, value] of [['target', filter.target], ['actor', filter.actor]] as const) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  params.push(filter.limit ?? 1000);
  const rows = await db.all<AuditRow>(
    `SELECT id, at, actor, action, target, detail FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toAudit);
}

async function requireJob(db: SqlDb, jobId: string): Promise<void> {
  if ((await db.all('SELECT id FROM jobs WHERE id = $1', [jobId])).length === 0) throw new XepaError('ERR_NOT_FOUND', `job ${jobId} is not in the store`);
}
