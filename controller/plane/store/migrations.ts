import type { Dialect } from './sql.js';

/** One numbered schema change: its statements for each engine, applied in one transaction. */
export interface Migration {
  version: number;
  name: string;
  up(d: Dialect): string[];
}

// Column types that differ between the engines. Times are integer milliseconds since the epoch (the database's
// clock for leases), JSON is text on both engines (the store parses it; nothing queries inside it yet).
const t = (d: Dialect) => ({
  int: d === 'postgres' ? 'BIGINT' : 'INTEGER',
  real: d === 'postgres' ? 'DOUBLE PRECISION' : 'REAL',
  serial: d === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT',
});

// The schema's history, oldest first. Never edit a released migration: add the next number.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, jobs with their leases, job events',
    up: (d) => {
      const { int, real } = t(d);
      return [
        `CREATE TABLE agents (
          id TEXT PRIMARY KEY,
          address TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          labels TEXT NOT NULL DEFAULT '{}',
          enrolment TEXT NOT NULL DEFAULT 'enrolled' CHECK (enrolment IN ('pending', 'enrolled', 'revoked')),
          version TEXT,
          ssh TEXT,
          last_seen_at ${int},
          injected_at ${int},
          created_at ${int} NOT NULL,
          updated_at ${int} NOT NULL
        )`,
        `CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
          agent_job_id TEXT NOT NULL,
          request TEXT NOT NULL DEFAULT '{}',
          state TEXT NOT NULL,
          last_seq ${int} NOT NULL DEFAULT 0,
          created_at ${int} NOT NULL,
          updated_at ${int} NOT NULL,
          finished_at ${int},
          lease_owner TEXT,
          lease_expires ${int},
          lease_epoch ${int} NOT NULL DEFAULT 0,
          UNIQUE (agent_id, agent_job_id)
        )`,
        'CREATE INDEX jobs_active ON jobs (finished_at, lease_expires)',
        `CREATE TABLE job_events (
          job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          seq ${int} NOT NULL,
          ts TEXT NOT NULL,
          state TEXT NOT NULL,
          progress ${real},
          message TEXT NOT NULL,
          detail TEXT,
          stored_at ${int} NOT NULL,
          stored_by TEXT NOT NULL,
          PRIMARY KEY (job_id, seq)
        )`,
      ];
    },
  },
  {
    version: 2,
    name: 'finish reports, screenshots, audit log',
    up: (d) => {
      const { int, serial } = t(d);
      return [
        `CREATE TABLE finish_reports (
          job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
          report TEXT NOT NULL,
          created_at ${int} NOT NULL
        )`,
        `CREATE TABLE screenshots (
          id ${serial},
          job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          seq ${int},
          taken_at ${int} NOT NULL,
          mime TEXT NOT NULL,
          bytes ${int} NOT NULL,
          sha256 TEXT NOT NULL,
          location TEXT NOT NULL,
          UNIQUE (job_id, sha256)
        )`,
        `CREATE TABLE audit_log (
          id ${serial},
          at ${int} NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          target TEXT NOT NULL,
          detail TEXT
        )`,
        'CREATE INDEX audit_log_target ON audit_log (target, at)',
      ];
    },
  },
  {
    version: 3,
    name: 'webhooks and their deliveries (schema only: nothing sends yet)',
    up: (d) => {
      const { int, serial } = t(d);
      return [
        `CREATE TABLE webhooks (
          id TEXT PRIMARY KEY,
          url TEXT NOT NULL,
          secret TEXT NOT NULL,
          states TEXT NOT NULL DEFAULT '[]',
          enabled ${int} NOT NULL DEFAULT 1,
          created_at ${int} NOT NULL
        )`,
        `CREATE TABLE webhook_deliveries (
          id ${serial},
          webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
          job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          seq ${int} NOT NULL,
          attempt ${int} NOT NULL DEFAULT 0,
          status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
          http_status ${int},
          error TEXT,
          next_attempt_at ${int},
          created_at ${int} NOT NULL,
          delivered_at ${int},
          UNIQUE (webhook_id, job_id, seq)
        )`,
      ];
    },
  },
];
