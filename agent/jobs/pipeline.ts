import type { Logger } from 'pino';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { XepaError, isENOENT } from '../protocol/index.js';
import type { JobStep, StepContext, Undo } from '../steps/index.js';
import { UndoJournal } from './undo-journal.js';

/** How a run of the steps went: the error that stopped them, and the first error of the unwinding. */
export interface PipelineOutcome {
  error?: unknown;
  undoError?: unknown;
}

/**
 * Runs the steps in order, then unwinds: every undo a step returned runs, in reverse order, whatever ended the
 * run (the last step, an error, a cancel), each even when an earlier undo failed. Before a step runs, its name
 * is written to the job's undo journal, and it leaves the journal once undone: an agent that dies in between
 * finds it at its next start (recoverSteps).
 */
export async function runSteps<V>(steps: readonly JobStep<V>[], ctx: StepContext<V>, onUnwind: () => void): Promise<PipelineOutcome> {
  const journal = new UndoJournal(ctx.job.dir);
  const undos: { step: JobStep<V>; undo?: Undo }[] = [];
  const outcome: PipelineOutcome = {};
  try {
    for (const step of steps) {
      if (ctx.signal.aborted) throw new XepaError('ERR_CANCELLED', 'job cancelled');
      journal.enter(step.name);
      const entry: { step: JobStep<V>; undo?: Undo } = { step };
      undos.push(entry);
      const undo = await step.run(ctx);
      if (undo) entry.undo = undo;
    }
    if (ctx.signal.aborted) throw new XepaError('ERR_CANCELLED', 'job cancelled');
  } catch (err) {
    outcome.error = err;
  }
  onUnwind();
  for (const { step, undo } of undos.reverse()) {
    try {
      await undo?.();
      journal.leave(step.name);
    } catch (err) {
      ctx.log.warn({ err, step: step.name }, 'undo failed');
      outcome.undoError ??= err;
    }
  }
  return outcome;
}

/**
 * At agent start: for every job directory (in jobsDir) whose undo journal still names steps (the agent died while they held
 * something), runs those steps' `recover` in reverse order. Returns the jobs it recovered.
 */
export async function recoverSteps(steps: readonly Pick<JobStep, 'name' | 'recover'>[], jobsDir: string, log: Logger): Promise<string[]> {
  const recovered: string[] = [];
  let ids: string[];
  try {
    ids = (await readdir(jobsDir)).sort();
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
  for (const job of ids.map((id) => ({ id, dir: join(jobsDir, id) }))) {
    const journal = new UndoJournal(job.dir);
    const pending = journal.pending();
    if (pending.length === 0) continue;
    for (const name of [...pending].reverse()) {
      const step = steps.find((s) => s.name === name);
      try {
        await step?.recover?.(job, log);
        journal.leave(name);
      } catch (err) {
        log.error({ err, job: job.id, step: name }, 'recovering a step left by an earlier run failed');
      }
    }
    recovered.push(job.id);
  }
  return recovered;
}
