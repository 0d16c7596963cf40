import type { JobEvent } from '../../../agent/protocol/index.js';
import * as agents from './agent-queries.js';
import * as events from './event-queries.js';
import * as jobs from './job-queries.js';
import { schemaVersion } from './migrate.js';
import * as records from './record-queries.js';
import type { SqlDb } from './sql.js';
import type { AgentInput, AuditEntry, JobInput, ScreenshotRecord, Store } from './types.js';

// The Store on either engine: every query is written once, over SqlDb.
export class SqlStore implements Store {
  constructor(private readonly db: SqlDb) {}

  get engine() {
    return this.db.dialect;
  }

  schemaVersion = () => schemaVersion(this.db);
  close = () => this.db.close();

  putAgent = (input: AgentInput) => agents.putAgent(this.db, input);
  getAgent = (id: string) => agents.getAgent(this.db, id);
  listAgents = () => agents.listAgents(this.db);
  removeAgent = (id: string) => agents.removeAgent(this.db, id);

  recordJob = (input: JobInput) => jobs.recordJob(this.db, input);
  getJob = (id: string) => jobs.getJob(this.db, id);
  findJob = (agentId: string, agentJobId: string) => jobs.findJob(this.db, agentId, agentJobId);
  listJobs = (filter?: { agentId?: string; active?: boolean; limit?: number }) => jobs.listJobs(this.db, filter);

  acquireJobLease = (jobId: string, replica: string, ttlMs: number) => jobs.acquireJobLease(this.db, jobId, replica, ttlMs);
  renewLease = (jobId: string, replica: string, ttlMs: number) => jobs.renewLease(this.db, jobId, replica, ttlMs);
  releaseLease = (jobId: string, replica: string) => jobs.releaseLease(this.db, jobId, replica);
  drivableJobs = (limit?: number) => jobs.drivableJobs(this.db, limit);

  appendEvents = (jobId: string, replica: string, list: readonly JobEvent[]) => events.appendEvents(this.db, jobId, replica, list);
  listEvents = (jobId: string, opts?: { after?: number; limit?: number }) => events.listEvents(this.db, jobId, opts);
  lastStoredSeq = (jobId: string) => events.lastStoredSeq(this.db, jobId);

  putFinishReport = (jobId: string, report: Record<string, unknown>) => records.putFinishReport(this.db, jobId, report);
  getFinishReport = (jobId: string) => records.getFinishReport(this.db, jobId);
  addScreenshot = (s: Omit<ScreenshotRecord, 'id'>) => records.addScreenshot(this.db, s);
  listScreenshots = (jobId: string) => records.listScreenshots(this.db, jobId);
  audit = (e: Omit<AuditEntry, 'id' | 'at' | 'detail'> & { detail?: Record<string, unknown> }) => records.audit(this.db, e);
  listAudit = (filter?: { target?: string; actor?: string; limit?: number }) => records.listAudit(this.db, filter);
}
