// The control plane's store: the agent registry, jobs with their leases and events, finish reports, screenshots,
// the audit log (and the webhook tables), on SQLite (embedded default) or PostgreSQL (replicas). docs/control-plane.md
export { openStore, openDb, parseStoreUrl, SQLITE_FILE } from './open-store.js';
export type { StoreConfig } from './open-store.js';
export { migrate, schemaVersion, MIGRATION_LOCK } from './migrate.js';
export type { MigrateResult } from './migrate.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export { SqlStore } from './sql-store.js';
export { sqlNow, toSqlitePlaceholders } from './sql.js';
export type { Dialect, SqlDb, SqlExec, SqlValue } from './sql.js';
export type { PostgresConnection } from './postgres-db.js';
export type {
  AgentInput,
  AgentRecord,
  AuditEntry,
  Enrolment,
  JobInput,
  JobRecord,
  Lease,
  ScreenshotRecord,
  StoredEvent,
  Store,
} from './types.js';
