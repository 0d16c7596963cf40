// The contract of an install step (what a capability exports, what agent/jobs runs and unwinds).
export type { JobStep, StepContext, StepJob, Undo } from './step.js';
