import { isAbsolute, join, resolve } from 'node:path';
import { XepaError } from '../../../agent/protocol/index.js';
import { migrate, type MigrateResult } from './migrate.js';
import type { PostgresConnection } from './postgres-db.js';
import type { SqlDb } from './sql.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './types.js';

/** Which engine and where: one SQLite file, or a PostgreSQL database shared by replicas. */
export type StoreConfig =
  | { engine: 'sqlite'; file: string; busyTimeoutMs?: number }
  | { engine: 'postgres'; connection: PostgresConnection; poolSize?: number };

// The embedded default's file inside the controller directory.
export const SQLITE_FILE = 'control-plane.sqlite';

// Reads a store URL: sqlite:PATH (relative to `dir`), sqlite:///abs/path, or postgres:// / postgresql:// (pg's
// connection string, e.g. postgresql:///xepa?host=/run/postgresql for a unix socket). No URL: the SQLite file
// in `dir`.
export function parseStoreUrl(url: string | undefined, dir: string): StoreConfig {
  if (url === undefined || url === '') return { engine: 'sqlite', file: join(dir, SQLITE_FILE) };
  if (/^postgres(ql)?:\/\//i.test(url)) return { engine: 'postgres', connection: url };
  const m = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (m) return { engine: 'sqlite', file: isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!) };
  throw new XepaError('ERR_CONFIG', `store ${JSON.stringify(url)}: expected sqlite:PATH or postgresql://…`);
}

// Opens the store and brings its schema up to date (migrations are applied once, by whichever replica comes first).
export async function openStore(config: StoreConfig): Promise<{ store: Store; migrated: MigrateResult }> {
  const db = await openDb(config);
  try {
    const migrated = await migrate(db);
    return { store: new SqlStore(db), migrated };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

// The engine's connection; each driver is loaded only when its engine is used (better-sqlite3 is a native module).
export async function openDb(config: StoreConfig): Promise<SqlDb> {
  if (config.engine === 'sqlite') {
    const { SqliteDb } = await import('./sqlite-db.js');
    return new SqliteDb(config.file, { busyTimeoutMs: config.busyTimeoutMs });
  }
  const { PostgresDb } = await import('./postgres-db.js');
  return new PostgresDb(config.connection, { max: config.poolSize });
}
