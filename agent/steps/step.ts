import type { Logger } from 'pino';
import type { InstallRequestParsed, JobState, Plan } from '../protocol/index.js';

/** Gives back what a step took; the runner calls it whatever ended the job (done, failure, cancel, shutdown). */
export type Undo = () => Promise<void>;

/** The job as its steps see it. */
export interface StepJob {
  readonly id: string;
  readonly dir: string;
  readonly request: InstallRequestParsed;
  readonly plan: Plan;
}

/**
 * What every step receives. `values` is what earlier steps handed on (the ISO's path, the VM's settings, the
 * running VM...): each step names the part it reads and writes as V, the job composes them.
 */
export interface StepContext<V = unknown> {
  readonly job: StepJob;
  readonly log: Logger;
  readonly now: () => Date;
  // Aborted when the job is cancelled (or the agent shuts down): long steps stop early.
  readonly signal: AbortSignal;
  readonly values: V;
  // The job's state now (the last event's).
  state(): JobState;
  // Reports progress as a job event, in the state the job is in while the step runs.
  emit(state: JobState, message: string, extra?: { progress?: number; detail?: Record<string, unknown> }): void;
}

/**
 * One step of an install, exported by the capability that owns its effect (iso, finish, vfio, host, fidelity,
 * vm). `run` does the work and returns how to undo it; `recover` undoes what a crashed agent left of it (found
 * from the job's directory) at the next start, before anything else runs.
 */
export interface JobStep<V = unknown> {
  readonly name: string;
  run(ctx: StepContext<V>): Promise<Undo | void>;
  recover?(job: { id: string; dir: string }, log: Logger): Promise<void>;
}
