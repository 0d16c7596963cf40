import type { DiskInfo } from '../protocol/index.js';
import { defaultSleep } from './vfio-deps.js';

// A disk as the plan knew it.
export interface ExpectedDisk {
  path: string;
  serial?: string | undefined;
  sizeBytes: number;
}

// What is wrong with the disks now: gone (by serial when known, else by path) or resized.
export function diskProblems(expected: ExpectedDisk[], now: DiskInfo[]): string[] {
  const problems: string[] = [];
  for (const d of expected) {
    const back = d.serial ? now.find((x) => x.serial === d.serial) : now.find((x) => x.path === d.path);
    if (!back) problems.push(`${d.path}${d.serial ? ` (serial ${d.serial})` : ''} is gone`);
    else if (back.sizeBytes !== d.sizeBytes) problems.push(`${back.path} changed size: ${d.sizeBytes} -> ${back.sizeBytes}`);
  }
  return problems;
}

// Waits for the disks to come back after restore (the rebound driver probes them asynchronously, NVMe in
// well under a second, SAS HBAs in seconds); returns the problems still present at the deadline.
export async function waitForDisks(
  expected: ExpectedDisk[],
  listDisks: () => Promise<DiskInfo[]>,
  opts: { timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<string[]> {
  const sleep = opts.sleep ?? defaultSleep;
  const timeout = opts.timeoutMs ?? 30_000;
  for (let waited = 0; ; waited += 250) {
    const problems = diskProblems(expected, await listDisks());
    if (problems.length === 0 || waited >= timeout) return problems;
    await sleep(250);
  }
}
