import pg from 'pg';
import { databaseError, firstWords, type SqlDb, type SqlExec, type SqlValue } from './sql.js';

// BIGINT (oid 20) holds milliseconds and counts: well inside Number's exact range, so read as numbers.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** How to reach a PostgreSQL database: a connection string (postgresql://… or postgresql:///db?host=/socket/dir) or pg's pool config. */
export type PostgresConnection = string | pg.PoolConfig;

// The fleet engine: a pool of connections to one PostgreSQL database shared by every replica.
export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly direct: SqlExec;

  constructor(connection: PostgresConnection, opts: { max?: number } = {}) {
    const config = typeof connection === 'string' ? { connectionString: connection } : connection;
    this.pool = new pg.Pool({ max: opts.max ?? 10, ...config, types });
    // An idle client's error (the server went away) must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
    this.direct = execOn((sql, params) => this.pool.query(sql, params as SqlValue[]));
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async tx<T>(fn: (q: SqlExec) => Promise<T>, opts: { lock?: number } = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw databaseError('cannot connect to PostgreSQL', err);
    }
    const q = execOn((sql, params) => client.query(sql, params as SqlValue[]));
    try {
      await q.run('BEGIN');
      if (opts.lock !== undefined) await q.all('SELECT pg_advisory_xact_lock($1)', [opts.lock]);
      const result = await fn(q);
      await q.run('COMMIT');
      client.release();
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackErr) {
        client.release(rollbackErr as Error); // a broken connection leaves the pool
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function execOn(query: (sql: string, params: readonly SqlValue[]) => Promise<pg.QueryResult>): SqlExec {
  const send = async (sql: string, params: readonly SqlValue[] = []): Promise<pg.QueryResult> => {
    try {
      return await query(sql, params);
    } catch (err) {
      throw databaseError(`PostgreSQL statement failed (${firstWords(sql)})`, err);
    }
  };
  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (await send(sql, params)).rows as T[],
    run: async (sql: string, params?: readonly SqlValue[]) => (await send(sql, params)).rowCount ?? 0,
  };
}
