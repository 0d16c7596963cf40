import { setTimeout as delay } from 'node:timers/promises';

// The default wait before retry `attempt` (1-based): exponential from 500 ms, capped at 30 s, with "equal jitter"
// (half fixed, half random) so many agents retrying one mirror do not hit it in lockstep.
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

// Sleeps `ms`, rejecting with `onAbort()` as soon as the signal fires.
export async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  if (signal?.aborted) throw onAbort();
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw onAbort();
    throw err;
  }
}
