import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openStore, schemaVersion, type Migration } from '../../../controller/plane/store/index.js';
import { codeOfAsync as errorCode } from '../../support/error-code.js';
import { ENGINES, useEngine } from '../../support/store-engines.js';

const TABLES = ['agents', 'jobs', 'job_events', 'finish_reports', 'screenshots', 'audit_log', 'webhooks', 'webhook_deliveries'];

describe.each(ENGINES)('store migrations on %s', (engine) => {
  const fx = useEngine(engine);

  const tablesOf = async (db: Awaited<ReturnType<typeof fx.db>>): Promise<string[]> => {
    const sql = engine === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'";
    return (await db.all<{ name: string }>(sql)).map((r) => r.name).sort();
  };

  it('lays down every migration on a fresh database, each recorded with its name', async () => {
    const config = await fx.fresh();
    const db = await fx.db(config);
    const r = await migrate(db);
    expect(r).toEqual({ applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.at(-1)!.version });
    expect(await tablesOf(db)).toEqual([...TABLES, 'schema_migrations'].sort());
    const rows = await db.all<{ version: number; name: string; applied_at: number }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
    expect(rows.map((x) => [x.version, x.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    for (const x of rows) expect(Math.abs(x.applied_at - Date.now())).toBeLessThan(60_000);
  });

  it('is a no-op when run again, and opening the store again applies nothing', async () => {
    const config = await fx.fresh();
    const first = await openStore(config);
    expect(first.migrated.applied.length).toBe(MIGRATIONS.length);
    await first.store.close();
    const second = await openStore(config);
    expect(second.migrated.applied).toEqual([]);
    expect(await second.store.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    await second.store.close();
  });

  it('upgrades a database left at version 1 and keeps its rows', async () => {
    const config = await fx.fresh();
    const db = await fx.db(config);
    expect(await migrate(db, { target: 1 })).toEqual({ applied: [1], version: 1 });
    expect(await tablesOf(db)).toEqual(['agents', 'job_events', 'jobs', 'schema_migrations']);
    await db.run("INSERT INTO agents (id, address, fingerprint, created_at, updated_at) VALUES ('old', 'h:7443', 'AA', 1, 1)");
    const r = await migrate(db);
    expect(r.applied).toEqual(MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version));
    expect(await tablesOf(db)).toEqual([...TABLES, 'schema_migrations'].sort());
    expect(await db.all('SELECT id, address FROM agents')).toEqual([{ id: 'old', address: 'h:7443' }]);
  });

  it('rolls a failing migration back whole: its tables are not there and the version stays', async () => {
    const db = await fx.db(await fx.fresh());
    const broken: Migration[] = [
      MIGRATIONS[0]!,
      { version: 2, name: 'half-done', up: () => ['CREATE TABLE half_done (x INTEGER)', 'CREATE TABLE agents (x INTEGER)'] },
    ];
    expect(await errorCode(migrate(db, { migrations: broken }))).toBe('ERR_DATABASE');
    expect(await schemaVersion(db)).toBe(1);
    expect(await tablesOf(db)).toEqual(['agents', 'job_events', 'jobs', 'schema_migrations']);
  });

  it('refuses a database whose schema is newer than this code knows', async () => {
    const config = await fx.fresh();
    const db = await fx.db(config);
    await migrate(db);
    await db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)");
    expect(await errorCode(openStore(config))).toBe('ERR_CONFIG');
  });

  it('applies each migration once when several replicas start on one database at the same time', async () => {
    const config = await fx.fresh();
    const dbs = await Promise.all([1, 2, 3, 4].map(() => fx.db(config)));
    const results = await Promise.all(dbs.map((db) => migrate(db)));
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
    for (const r of results) expect(r.version).toBe(MIGRATIONS.at(-1)!.version);
    expect((await dbs[0]!.all('SELECT version FROM schema_migrations')).length).toBe(MIGRATIONS.length);
  });
});
