import type { JobState, JobSummary } from '../protocol/index.js';
import type { JobLog } from './job-log.js';

// What the registry needs of a job, live (InstallJob) or from an earlier run of the agent (PastJob).
export interface JobRecord {
  readonly id: string;
  readonly state: JobState;
  readonly events: JobLog;
  readonly done: Promise<void>;
  summary(): JobSummary;
  cancel(): void;
}
