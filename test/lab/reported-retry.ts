// Retries for the lab's known nested-virtualization flakiness (docs/lab-notes.md: about 1 run in 15 stalls): at most 2
// more attempts, only for failures marked as that kind (LabFlake), each printed into the test output and
// returned, never hidden. Any other failure ends the step at once.

// A failure of the kind nested virtualization causes here: a stalled or reset guest, a wedged outer VM.
export class LabFlake extends Error {
  override readonly name = 'LabFlake';
}

// The outcome of a retried step: its value and the failures that came before it.
export interface Retried<T> {
  value: T;
  failures: string[];
}

// Runs `attempt(n)` (n from 1) until it resolves, a non-LabFlake error, or `1 + retries` failed attempts;
// `between` runs before each retry (e.g. to reboot a wedged lab). The final error lists every failure.
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
      const flaky = err instanceof LabFlake;
      report(`${what}: attempt ${n} of ${retries + 1} failed${flaky ? ' (nested-virt flake)' : ''}: ${why}`);
      if (!flaky || n > retries) {
        if (failures.length === 1) throw err;
        throw new Error(`${what} failed ${n} time(s): ${failures.join(' | ')}`, { cause: err });
      }
      await between?.(err, n);
    }
  }
}
