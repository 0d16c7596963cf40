import { z } from 'zod';
import { Inventory } from './inventory.js';
import { FinishParams, FinishReport, PartitionBackup, RestorePartitionTableParams } from './fidelity.js';
import { InstallRequest, JobSummary, Plan } from './jobs.js';
import { AgentHealth } from './health.js';

// Bumped on any incompatible change of the method table; `hello` refuses a different major.
export const PROTOCOL_VERSION = 1;

const jobRef = z.object({ job: z.string().min(1).max(64) }).strict();

// THE method table of the control channel: every method's params and result, in one place.
// The agent's dispatcher must implement each (the compiler checks); the controller validates replies with it.
export const methods = {
  hello: {
    params: z.object({ protocol: z.number().int(), client: z.string().max(200).optional() }).strict(),
    result: AgentHealth,
  },
  inventory: { params: z.object({}).strict(), result: Inventory },
  plan: { params: InstallRequest, result: Plan },
  install: { params: InstallRequest, result: JobSummary },
  'job.get': { params: jobRef, result: JobSummary },
  'job.list': { params: z.object({}).strict(), result: z.object({ jobs: z.array(JobSummary) }) },
  // Replays every event with seq > after, then streams live `job.event` notifications until the job ends.
  'job.events': {
    params: z.object({ job: z.string().min(1).max(64), after: z.number().int().nonnegative().default(0) }).strict(),
    result: z.object({ job: z.string(), replayed: z.number().int(), lastSeq: z.number().int() }),
  },
  'job.cancel': { params: jobRef, result: JobSummary },
  // The partition tables the job saved before the VM started (one disk per call: messages stay under 1 MiB).
  'job.backup': {
    params: z.object({ job: z.string().min(1).max(64), index: z.number().int().nonnegative().default(0) }).strict(),
    result: z.object({ count: z.number().int(), backup: PartitionBackup.optional() }),
  },
  // The move to metal: VM stopped, devices checked, UEFI boot entry reconciled, optional check and reboot.
  finish: { params: FinishParams, result: FinishReport },
  // Writes a saved partition table back (sfdisk dump, or the raw first/last bytes).
  'disk.restore-partition-table': {
    params: RestorePartitionTableParams,
    result: z.object({ disk: z.string(), mode: z.enum(['sfdisk', 'raw']), message: z.string() }),
  },
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>;
export type ParamsOut<M extends MethodName> = z.output<Methods[M]['params']>;
export type Result<M extends MethodName> = z.output<Methods[M]['result']>;

export const isMethodName = (m: string): m is MethodName => Object.hasOwn(methods, m);
