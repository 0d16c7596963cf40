import { XepaError } from '../../../agent/protocol/index.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { sqlNow, type SqlDb } from './sql.js';

// Key of the advisory lock that serialises migrations of replicas starting at once on one PostgreSQL database.
export const MIGRATION_LOCK = 0x78657061; // "xepa"

/** What migrate() did. */
export interface MigrateResult {
  applied: number[]; // versions applied now, in order
  version: number; // the schema version after
}

// Brings the schema to `target` (default: the newest known), each migration in its own transaction, recorded in
// schema_migrations; versions already recorded are skipped, so a second run is a no-op. Refuses a database whose
// schema is newer than this code knows (an older xepa must not write to a newer schema).
export async function migrate(db: SqlDb, opts: { migrations?: readonly Migration[]; target?: number } = {}): Promise<MigrateResult> {
  const migrations = [...(opts.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const newest = migrations.at(-1)?.version ?? 0;
  const target = opts.target ?? newest;
  const now = sqlNow(db.dialect);
  const current = await db.tx(async (q) => {
    await q.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at ${db.dialect === 'postgres' ? 'BIGINT' : 'INTEGER'} NOT NULL
    )`);
    return versionIn(q);
  }, { lock: MIGRATION_LOCK });
  if (current > newest) {
    throw new XepaError('ERR_CONFIG', `the store's schema is at version ${current}, newer than this xepa knows (${newest}): upgrade xepa`, {
      details: { schema: current, known: newest },
    });
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version > target) break;
    const done = await db.tx(async (q) => {
      const rows = await q.all('SELECT version FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) return false; // another replica applied it while we waited for the lock
      for (const statement of m.up(db.dialect)) await q.run(statement);
      await q.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, ${now})`, [m.version, m.name]);
      return true;
    }, { lock: MIGRATION_LOCK }).catch((err: unknown) => {
      throw new XepaError('ERR_DATABASE', `migration ${m.version} (${m.name}) failed and was rolled back: ${(err as Error).message}`, { cause: err });
    });
    if (done) applied.push(m.version);
  }
  return { applied, version: await versionIn(db) };
}

// The highest version recorded in schema_migrations (0 when none).
export async function schemaVersion(db: SqlDb): Promise<number> {
  return versionIn(db);
}

async function versionIn(q: Pick<SqlDb, 'all'>): Promise<number> {
  const [row] = await q.all<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return Number(row?.v ?? 0);
}
