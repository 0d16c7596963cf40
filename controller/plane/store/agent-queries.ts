import { XepaError, normalizeFingerprint } from '../../../agent/protocol/index.js';
import { forUpdate, sqlNow, type SqlDb } from './sql.js';
import type { AgentInput, AgentRecord, Enrolment } from './types.js';

interface AgentRow {
  id: string;
  address: string;
  fingerprint: string;
  labels: string;
  enrolment: Enrolment;
  version: string | null;
  ssh: string | null;
  last_seen_at: number | null;
  injected_at: number | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, address, fingerprint, labels, enrolment, version, ssh, last_seen_at, injected_at, created_at, updated_at';

const toAgent = (r: AgentRow): AgentRecord => ({
  id: r.id,
  address: r.address,
  fingerprint: r.fingerprint,
  labels: JSON.parse(r.labels) as Record<string, string>,
  enrolment: r.enrolment,
  version: r.version,
  ssh: r.ssh,
  lastSeenAt: r.last_seen_at,
  injectedAt: r.injected_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

// Adds an agent or changes the fields given of the one with that id, in one transaction.
export async function putAgent(db: SqlDb, input: AgentInput): Promise<AgentRecord> {
  const fingerprint = input.fingerprint === undefined ? undefined : canonicalFingerprint(input.fingerprint);
  const now = sqlNow(db.dialect);
  return db.tx(async (q) => {
    const [old] = await q.all<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE id = $1${forUpdate(db.dialect)}`, [input.id]);
    const prev = old ? toAgent(old) : undefined;
    const address = input.address ?? prev?.address;
    const pin = fingerprint ?? prev?.fingerprint;
    if (!address || !pin) {
      throw new XepaError('ERR_BAD_REQUEST', `agent ${input.id} is new: its address and certificate fingerprint are needed`);
    }
    const values = [
      input.id,
      address,
      pin,
      JSON.stringify(input.labels ?? prev?.labels ?? {}),
      input.enrolment ?? prev?.enrolment ?? 'enrolled',
      pick(input, 'version', prev),
      pick(input, 'ssh', prev),
      pick(input, 'lastSeenAt', prev),
      pick(input, 'injectedAt', prev),
    ];
    const [row] = await q.all<AgentRow>(
      `INSERT INTO agents (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${now}, ${now})
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, fingerprint = excluded.fingerprint,
         labels = excluded.labels, enrolment = excluded.enrolment, version = excluded.version, ssh = excluded.ssh,
         last_seen_at = excluded.last_seen_at, injected_at = excluded.injected_at, updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      values,
    );
    return toAgent(row!);
  });
}

export async function getAgent(db: SqlDb, id: string): Promise<AgentRecord | null> {
  const [row] = await db.all<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE id = $1`, [id]);
  return row ? toAgent(row) : null;
}

export async function listAgents(db: SqlDb): Promise<AgentRecord[]> {
  return (await db.all<AgentRow>(`SELECT ${COLUMNS} FROM agents ORDER BY id`)).map(toAgent);
}

// Removes an agent without jobs; one with a history is refused (its jobs reference it): revoke it instead.
export async function removeAgent(db: SqlDb, id: string): Promise<boolean> {
  return db.tx(async (q) => {
    const [jobs] = await q.all<{ n: number }>('SELECT COUNT(*) AS n FROM jobs WHERE agent_id = $1', [id]);
    if (Number(jobs?.n ?? 0) > 0) {
      throw new XepaError('ERR_BAD_REQUEST', `agent ${id} has ${jobs!.n} job(s) in the history: set its enrolment to revoked instead of removing it`);
    }
    return (await q.run('DELETE FROM agents WHERE id = $1', [id])) > 0;
  });
}

// A nullable field: the value given (null clears it), else the stored one.
function pick(input: AgentInput, key: 'version' | 'ssh' | 'lastSeenAt' | 'injectedAt', prev: AgentRecord | undefined): string | number | null {
  const given = input[key];
  return (given !== undefined ? given : prev?.[key]) ?? null;
}

function canonicalFingerprint(s: string): string {
  try {
    return normalizeFingerprint(s);
  } catch (err) {
    throw new XepaError('ERR_BAD_REQUEST', `${JSON.stringify(s)} is not a SHA-256 certificate fingerprint`, { cause: err });
  }
}
