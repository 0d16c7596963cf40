import type { JobEvent, JobState } from '../../../agent/protocol/index.js';
import type { Dialect } from './sql.js';

// Times in records are milliseconds since the epoch; JSON fields are parsed values.

/** How far an agent is in joining the fleet: announced with a token and waiting, enrolled, or shut out. */
export type Enrolment = 'pending' | 'enrolled' | 'revoked';

/** One agent of the registry: what controller/registry's agents.json holds, plus labels and enrolment. */
export interface AgentRecord {
  id: string;
  address: string; // host:port the control plane dials
  fingerprint: string; // pinned SHA-256 of its TLS certificate, canonical form
  labels: Record<string, string>;
  enrolment: Enrolment;
  version: string | null;
  ssh: string | null; // ssh://user@host:port it was injected through
  lastSeenAt: number | null;
  injectedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What putAgent takes: the id, and for a new agent its address and fingerprint; fields left out keep their value. */
export type AgentInput = Pick<AgentRecord, 'id'> & Partial<Omit<AgentRecord, 'id' | 'createdAt' | 'updatedAt'>>;

/** A replica's lease on driving a job; epoch grows at every change of owner (a fencing token). */
export interface Lease {
  owner: string;
  expiresAt: number;
  epoch: number;
}

/** One job of one agent, as the control plane knows it. */
export interface JobRecord {
  id: string; // the control plane's id
  agentId: string;
  agentJobId: string; // the id the agent gave it
  request: Record<string, unknown>; // summary of what was asked (OS, disks, who)
  state: JobState; // the state of its last stored event
  lastSeq: number; // the highest event seq stored
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null; // when a terminal event was stored
  lease: Lease | null; // null when no replica holds it (or never did)
}

/** What recordJob takes. */
export interface JobInput {
  id?: string; // default a fresh UUID
  agentId: string;
  agentJobId: string;
  request?: Record<string, unknown>;
  state?: JobState; // default 'planned'
}

/** An event as stored: the agent's event, when it was stored and by which replica. */
export interface StoredEvent extends JobEvent {
  storedAt: number;
  storedBy: string;
}

/** Metadata of one screenshot of a job's timeline (the image itself lives at `location`). */
export interface ScreenshotRecord {
  id: number;
  jobId: string;
  seq: number | null; // the event it illustrates
  takenAt: number;
  mime: string;
  bytes: number;
  sha256: string;
  location: string;
}

/** One line of the audit log: who did what to which target. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string; // an engineer, a token's subject, or replica:<name>
  action: string; // install, cancel, power.reset, console.open ...
  target: string; // agent:<id>, job:<id> ...
  detail: Record<string, unknown> | null;
}

/** The control plane's one store; the same contract on SQLite and PostgreSQL (test/integration/plane). */
export interface Store {
  readonly engine: Dialect;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  // The registry. putAgent adds or updates (ERR_BAD_REQUEST for a new agent without address and fingerprint);
  // removeAgent refuses an agent that has jobs in the history (revoke it instead).
  putAgent(input: AgentInput): Promise<AgentRecord>;
  getAgent(id: string): Promise<AgentRecord | null>;
  listAgents(): Promise<AgentRecord[]>;
  removeAgent(id: string): Promise<boolean>;

  // Jobs. recordJob is idempotent on (agentId, agentJobId): recording a job the store has returns it unchanged.
  recordJob(input: JobInput): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | null>;
  findJob(agentId: string, agentJobId: string): Promise<JobRecord | null>;
  listJobs(filter?: { agentId?: string; active?: boolean; limit?: number }): Promise<JobRecord[]>;

  // Leases: one replica drives a job at a time. acquire wins when the job has no live lease or `replica` holds it;
  // renew extends a live lease of `replica` (null once it expired or was taken: the lease is lost); release gives
  // it up. drivableJobs lists unfinished jobs that no replica holds, oldest first: the work a replica may take.
  acquireJobLease(jobId: string, replica: string, ttlMs: number): Promise<Lease | null>;
  renewLease(jobId: string, replica: string, ttlMs: number): Promise<Lease | null>;
  releaseLease(jobId: string, replica: string): Promise<boolean>;
  drivableJobs(limit?: number): Promise<JobRecord[]>;

  // Events. appendEvents stores events of a job under `replica`'s live lease (ERR_LEASE_LOST otherwise, nothing
  // stored); an event whose (job, seq) is stored already is skipped, so a replay never stores twice. The job's
  // state and lastSeq follow the highest seq stored.
  appendEvents(jobId: string, replica: string, events: readonly JobEvent[]): Promise<{ stored: number; lastSeq: number }>;
  listEvents(jobId: string, opts?: { after?: number; limit?: number }): Promise<StoredEvent[]>;
  lastStoredSeq(jobId: string): Promise<number>;

  // Finish reports (one per job, replaced when finish runs again), screenshots, the audit log.
  putFinishReport(jobId: string, report: Record<string, unknown>): Promise<void>;
  getFinishReport(jobId: string): Promise<{ report: Record<string, unknown>; createdAt: number } | null>;
  addScreenshot(s: Omit<ScreenshotRecord, 'id'>): Promise<ScreenshotRecord>;
  listScreenshots(jobId: string): Promise<ScreenshotRecord[]>;
  audit(e: Omit<AuditEntry, 'id' | 'at' | 'detail'> & { detail?: Record<string, unknown> }): Promise<AuditEntry>;
  listAudit(filter?: { target?: string; actor?: string; limit?: number }): Promise<AuditEntry[]>;
}
