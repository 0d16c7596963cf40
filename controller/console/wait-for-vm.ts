import { JobState, isTerminal, isXepaError } from '../../agent/protocol/index.js';

/** How long and how often openWhenRunning tries, and what it tells the person waiting. */
export interface WaitForVmOptions {
  timeoutMs: number;
  intervalMs?: number; // default 1 s
  onWaiting?: (why: string) => void; // called once, on the first refusal that is worth waiting through
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

// Opens a console stream of a job whose VM may not run yet (`xepa serial --wait` right after `install
// --detach`, while the ISO is still fetching): the agent's refusals "no job has a running VM" (ERR_NOT_FOUND
// without a job id) and "its VM is not running" for a job that has not ended (ERR_JOB_STATE) are waited through;
// a job that has ended, an unknown job id and any other error are thrown at once, and so is the last refusal
// when `timeoutMs` passes.
export async function openWhenRunning<T>(open: () => Promise<T>, jobNamed: boolean, o: WaitForVmOptions): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const until = now() + o.timeoutMs;
  let told = false;
  for (;;) {
    try {
      return await open();
    } catch (err) {
      if (!worthWaiting(err, jobNamed) || now() >= until) throw err;
      if (!told) o.onWaiting?.((err as Error).message);
      told = true;
      await sleep(o.intervalMs ?? 1000);
    }
  }
}

// A refusal that a VM starting later would lift.
function worthWaiting(err: unknown, jobNamed: boolean): boolean {
  if (isXepaError(err, 'ERR_NOT_FOUND')) return !jobNamed; // with --job, "not found" means no such job
  if (!isXepaError(err, 'ERR_JOB_STATE')) return false;
  const state = JobState.safeParse((err.details as { state?: unknown } | undefined)?.state);
  return state.success && !isTerminal(state.data);
}
