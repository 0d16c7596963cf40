import type { DiskInfo } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';

// A disk as the plan knew it.
export interface ExpectedDisk {
  path: string;
  serial?: string | undefined;
  sizeBytes: number;
}

// Where the disk is now: found by serial when it has one (a /dev name may move), else by path; undefined if gone.
export function findDiskNow(d: { path: string; serial?: string | undefined }, now: DiskInfo[]): DiskInfo | undefined {
  return d.serial ? now.find((x) => x.serial === d.serial) : now.find((x) => x.path === d.path);
}

// What is wrong with the disks now: gone (by serial when known, else by path) or resized. The one answer to
// "is the disk back?" (after an install, and before finish touches it).
export function diskProblems(expected: ExpectedDisk[], now: DiskInfo[]): string[] {
  const problems: string[] = [];
  for (const d of expected) {
    const back = findDiskNow(d, now);
    if (!back) problems.push(`${d.path}${d.serial ? ` (serial ${d.serial})` : ''} is gone`);
    else if (back.sizeBytes !== d.sizeBytes) problems.push(`${back.path} changed size: ${d.sizeBytes} -> ${back.sizeBytes}`);
  }
  return problems;
}

// Waits for the disks to come back (a controller given back to its driver probes them asynchronously, NVMe in
// well under a second, SAS HBAs in seconds); returns the problems still present at the deadline.
export async function waitForDisks(
  expected: ExpectedDisk[],
  listDisks: () => Promise<DiskInfo[]>,
  opts: { timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<string[]> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeout = opts.timeoutMs ?? 30_000;
  for (let waited = 0; ; waited += 250) {
    const problems = diskProblems(expected, await listDisks());
    if (problems.length === 0 || waited >= timeout) return problems;
    await sleep(250);
  }
}

// Fails with ERR_DEVICE_NOT_FOUND naming every disk that is not back as the plan knew it.
export async function checkDisksBack(expected: ExpectedDisk[], listDisks: () => Promise<DiskInfo[]>, opts: { wait: boolean }): Promise<void> {
  const problems = opts.wait ? await waitForDisks(expected, listDisks) : diskProblems(expected, await listDisks());
  if (problems.length > 0) throw new XepaError('ERR_DEVICE_NOT_FOUND', `after the VM: ${problems.join('; ')}`);
}

// The step whose undo runs last: after everything else is given back, every planned disk must be present again
// as the plan knew it (by serial when it has one; disks of a passed-through controller are waited for).
export function disksBackStep(listDisks: () => Promise<DiskInfo[]>, check = checkDisksBack): JobStep {
  return {
    name: 'disks-back',
    async run(ctx) {
      const disks = ctx.job.plan.disks;
      return async () => {
        await check(disks, listDisks, { wait: disks.some((d) => d.via === 'vfio') });
        ctx.emit('restoring', `devices restored; ${disks.length} disk(s) checked back by ${disks.every((d) => d.serial) ? 'serial' : 'path'}`);
      };
    },
  };
}
