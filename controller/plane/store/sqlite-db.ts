import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { databaseError, firstWords, toSqlitePlaceholders, type SqlDb, type SqlExec, type SqlValue } from './sql.js';

type Statement = Database.Statement<unknown[]>;

// The queue of each file's connections in this process. better-sqlite3 is synchronous: a second connection of the
// same process waiting in SQLite's busy handler would block the thread, and with it the first connection's open
// transaction it waits for. So the connections of one process to one file take turns here, and SQLite's lock only
// ever waits for other processes.
const lanes = new Map<string, { queue: Promise<unknown>; users: number }>();

// The embedded engine: one SQLite file through better-sqlite3 (synchronous). WAL journal, so readers never wait
// for the writer; synchronous=NORMAL, which survives a crash of the process (SIGKILL) and may lose the last
// transactions on a power cut, which the agents still hold and replay (events are stored idempotently); foreign
// keys on; a writer in another process is waited for up to busyTimeoutMs.
export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private readonly lane: { queue: Promise<unknown>; users: number };
  private readonly key: string;

  constructor(file: string, opts: { busyTimeoutMs?: number } = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.key = file === ':memory:' ? `:memory:${Math.random()}` : resolve(file);
    this.lane = lanes.get(this.key) ?? { queue: Promise.resolve(), users: 0 };
    lanes.set(this.key, this.lane);
    this.lane.users++;
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    } catch (err) {
      throw databaseError(`cannot open the SQLite store ${file}`, err);
    }
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.exclusive(async () => this.direct.all<T>(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.exclusive(async () => this.direct.run(sql, params));
  }

  // BEGIN IMMEDIATE takes the write lock at once, so two processes' transactions are serialised from the start
  // (a deferred transaction could fail to upgrade its read lock). Other calls of this process wait in the queue
  // while fn awaits, so nothing of them runs inside this transaction.
  tx<T>(fn: (q: SqlExec) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (!this.db.open) return;
      this.db.close();
      if (--this.lane.users === 0) lanes.delete(this.key);
    });
  }

  // The statements of an open transaction (or of exclusive()) run on the connection directly.
  private readonly direct: SqlExec = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> => {
      try {
        return this.prepare(sql).all(numbered(params)) as T[];
      } catch (err) {
        throw databaseError(`SQLite statement failed (${firstWords(sql)})`, err);
      }
    },
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<number> => {
      try {
        return this.prepare(sql).run(numbered(params)).changes;
      } catch (err) {
        throw databaseError(`SQLite statement failed (${firstWords(sql)})`, err);
      }
    },
  };

  private exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw databaseError(`SQLite ${sql} failed`, err);
    }
  }

  private prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(toSqlitePlaceholders(sql));
      this.statements.set(sql, s);
    }
    return s;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.queue.then(fn, fn);
    this.lane.queue = run.catch(() => undefined);
    return run;
  }
}

// better-sqlite3 binds SQLite's numbered parameters (?1, ?2 …) by name: { 1: first, 2: second … }.
function numbered(params: readonly SqlValue[]): Record<number, SqlValue> {
  const out: Record<number, SqlValue> = {};
  params.forEach((v, i) => (out[i + 1] = v));
  return out;
}
