import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

// The load benchmarks run their helpers (file server, fetcher, fake agents) as child processes of the same
// bench bundle, selected by XEPA_BENCH_ROLE, so each side's CPU and memory are measured on its own.

/** A started helper process and the first JSON line it printed (its address or its result). */
export interface BenchChild<T> {
  child: ChildProcess;
  first: Promise<T>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

// Starts this bundle again in `role` with `env`; its first stdout line (JSON) resolves `first`.
export function startRole<T>(role: string, env: Record<string, string> = {}): BenchChild<T> {
  const child = spawn(process.execPath, [process.argv[1]!], {
    env: { ...process.env, ...env, XEPA_BENCH_ROLE: role },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const first = new Promise<T>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as T));
    void exited.then((code) => reject(new Error(`bench role ${role} exited (${code}) before answering`)));
  });
  first.catch(() => undefined);
  return {
    child,
    first,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// Prints the one JSON line a role answers with.
export const answer = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);

// Percentiles of a list of numbers (nearest rank), rounded to 0.1.
export function percentiles(xs: number[], ps: number[]): Record<string, number> {
  const s = [...xs].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of ps) out[`p${p}`] = Math.round((s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN) * 10) / 10;
  return out;
}

// Median of a list, rounded to 0.1.
export const median = (xs: number[]): number => percentiles(xs, [50]).p50!;

// Peak and current RSS of a process in KiB, from /proc.
export async function memoryKiB(pid: number): Promise<{ rss: number; peak: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (f: string): number => Number(new RegExp(`${f}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}
