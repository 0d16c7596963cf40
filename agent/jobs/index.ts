// The install job: state machine, event log, job registry and the plan (dry run).
export { InstallJob } from './install-job.js';
export { JobLog } from './job-log.js';
export { JobManager } from './job-manager.js';
export { makePlan, HOST_RESERVE_MIB, type PlanInputs } from './planner.js';
export type { JobRuntime, RunningVmHandle, VmExitInfo, VmSpecInput } from './runtime.js';
export { stopOrphanVms, QEMU_PID_FILE, type OrphanVmDeps } from './orphan-vms.js';
export { vmOutcome, type EndOn } from './vm-outcome.js';
