import { XepaError } from '../../../agent/protocol/index.js';

/** The two engines the store runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** A value a statement parameter may hold (JSON is stored as text, times as integer milliseconds). */
export type SqlValue = string | number | null;

/**
 * What the store's queries need from a database: statements with `$1 … $n` placeholders on both engines, and the
 * few expressions that differ spelled through `sqlNow` / `forUpdate` below.
 */
export interface SqlExec {
  readonly dialect: Dialect;
  // Runs a statement that returns rows (SELECT, or anything with RETURNING).
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  // Runs a statement and returns how many rows it changed.
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** A database connection (a pool on PostgreSQL) with transactions. */
export interface SqlDb extends SqlExec {
  // Runs fn in one transaction: committed when it resolves, rolled back when it throws. `lock` serialises the
  // transactions that name the same key across processes (a PostgreSQL advisory lock; SQLite's write lock is
  // already global), as migrations need.
  tx<T>(fn: (q: SqlExec) => Promise<T>, opts?: { lock?: number }): Promise<T>;
  close(): Promise<void>;
}

// The database's clock in milliseconds since the epoch: replicas on several machines compare lease times with
// one clock, the database's, never with their own.
export function sqlNow(d: Dialect): string {
  return d === 'postgres' ? '(extract(epoch from clock_timestamp()) * 1000)::bigint' : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
}

// Row lock of a SELECT inside a transaction on PostgreSQL; SQLite's transactions already hold the write lock.
export function forUpdate(d: Dialect): string {
  return d === 'postgres' ? ' FOR UPDATE' : '';
}

// SQLite numbers positional parameters `?N`; the store writes PostgreSQL's `$N`.
export function toSqlitePlaceholders(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}

// A database failure as XepaError ERR_DATABASE, naming what was being done.
export function databaseError(what: string, err: unknown): XepaError {
  if (err instanceof XepaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new XepaError('ERR_DATABASE', `${what}: ${message}`, { cause: err });
}

// The start of a statement, to name it in an error without dumping it whole.
export function firstWords(sql: string): string {
  return sql.trim().split(/\s+/).slice(0, 4).join(' ');
}
