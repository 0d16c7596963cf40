// Retries for the lab's known nested-virtualization flakiness (LAB-NOTES: about 1 run in 15 stalls): at most
// `retries` more attempts, each failure printed into the test output and returned, never hidden.

// The outcome of a retried step: its value and the failures that came before it.
export interface Retried<T> {
  value: T;
  failures: string[];
}

// Runs `attempt(n)` (n from 1) until it resolves or `1 + retries` attempts have failed; `between` runs before
// each retry (e.g. to reboot a wedged lab). The last failure is rethrown with every earlier one in its message.
export async function withReportedRetries<T>(
  what: string,
  retries: number,
  report: (line: string) => void,
  attempt: (n: number) => Promise<T>,
  between?: (failure: unknown, n: number) => Promise<void>,
): Promise<Retried<T>> {
  if (retries > 2) throw new Error('the lab allows at most 2 retries');
  const failures: string[] = [];
  for (let n = 1; ; n++) {
    try {
      const value = await attempt(n);
      if (failures.length > 0) report(`RETRIED: ${what} passed on attempt ${n} after ${failures.length} failure(s): ${failures.join(' | ')}`);
      return { value, failures };
    } catch (err) {
      const why = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message.split('\n')[0]}` : String(err);
      failures.push(`attempt ${n}: ${why}`);
      report(`${what}: attempt ${n} of ${retries + 1} failed: ${why}`);
      if (n > retries) {
        const e = new Error(`${what} failed ${n} time(s): ${failures.join(' | ')}`, { cause: err });
        throw e;
      }
      await between?.(err, n);
    }
  }
}
