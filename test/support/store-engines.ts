import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openDb, openStore, type Dialect, type SqlDb, type Store, type StoreConfig } from '../../controller/plane/store/index.js';
import { startPostgres, type PgCluster } from './postgres.js';

// The engines every store test runs on: the same tests, parameterised (describe.each(ENGINES)).
export const ENGINES: readonly Dialect[] = ['sqlite', 'postgres'];

/** One engine inside a describe block: fresh empty databases, and stores and connections closed after each test. */
export interface EngineFixture {
  fresh(): Promise<StoreConfig>; // a new empty database (SQLite file or PostgreSQL database)
  open(config?: StoreConfig): Promise<Store>; // a migrated store (on a fresh database unless given)
  db(config: StoreConfig): Promise<SqlDb>; // a raw connection, for migration tests
  cluster(): PgCluster | undefined;
}

// Registers the hooks of `engine` in the current describe block: PostgreSQL starts its throwaway cluster once
// for the block (test/support/postgres.ts) and stops it after; SQLite files live in a temporary directory.
export function useEngine(engine: Dialect, opts: { maxConnections?: number } = {}): EngineFixture {
  let cluster: PgCluster | undefined;
  let dir = '';
  let n = 0;
  const open: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xepa-store-'));
    if (engine === 'postgres') cluster = await startPostgres({ maxConnections: opts.maxConnections });
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close().catch(() => undefined);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = async (): Promise<StoreConfig> => {
    if (engine === 'sqlite') return { engine, file: join(dir, `store-${++n}.sqlite`) };
    return { engine, connection: cluster!.connection(await cluster!.createDatabase()) };
  };
  return {
    fresh,
    async open(config) {
      const { store } = await openStore(config ?? (await fresh()));
      open.push(store);
      return store;
    },
    async db(config) {
      const db = await openDb(config);
      open.push(db);
      return db;
    },
    cluster: () => cluster,
  };
}
