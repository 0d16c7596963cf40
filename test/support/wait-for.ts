// Waiting in tests by polling a state with a deadline, never by sleeping a guessed time.

/** Options of waitFor: how long to wait, how often to look, and what the wait is for (named in the timeout error). */
export interface WaitForOptions {
  timeoutMs?: number; // default 5000
  intervalMs?: number; // default 5
  what?: string;
}

// Resolves with the first truthy value `probe` returns; throws naming `what` (and the last probe error) at the deadline.
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last === undefined ? '' : ` (last probe threw: ${String(last)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 5));
  }
}
