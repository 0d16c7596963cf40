// The install job: the step runner that always unwinds, the install's steps, the job registry, the plan (dry run).
export { InstallJob, type JobEnv } from './install-job.js';
export { installSteps, type InstallStepDeps, type InstallValues } from './install-steps.js';
export { runSteps, recoverSteps, type PipelineOutcome } from './pipeline.js';
export { JobLog } from './job-log.js';
export { JobManager } from './job-manager.js';
export { makePlan, HOST_RESERVE_MIB, type PlanInputs } from './planner.js';
