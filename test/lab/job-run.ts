// Runs an install in the lab through the real CLI (`install --detach`, then `jobs --follow`) with a host-side
// deadline: a job that stalls (nested-virt flakiness) is cancelled, which makes the agent restore its devices.
import { JobEvent, JobSummary } from '../../agent/protocol/index.js';
import { firstDifference } from './host-disk.js';
import type { Lab } from './lab-session.js';
import { LabFlake } from './reported-retry.js';

// What one install attempt did: the job, its events, the CLI's exit code, and whether the deadline hit.
export interface InstallRun {
  job: string;
  code: number;
  events: JobEvent[];
  timedOut: boolean;
  seconds: number;
}

// Starts an install with `args` (iso, disks, options: without --yes/--detach/--json) and follows it to its end.
export async function runInstall(lab: Lab, args: string[], deadlineMs: number): Promise<InstallRun> {
  const started = Date.now();
  const start = await lab.cli('install', ...args, '--yes', '--detach', '--json');
  if (start.code !== 0) throw new Error(`install did not start (exit ${start.code}): ${start.err.trim()}`);
  const job = JobSummary.parse(JSON.parse(start.out)).id;
  const follow = lab.cli('jobs', job, '--follow', '--json');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
  const first = await Promise.race([follow, deadline]);
  clearTimeout(timer);
  const timedOut = first === 'deadline';
  if (timedOut) {
    lab.report(`install ${job}: no end after ${deadlineMs / 1000} s: cancelling it (the agent restores devices)`);
    await lab.cli('cancel', job);
  }
  const done = await follow;
  const events = done.out.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JobEvent.parse(JSON.parse(l)));
  return { job, code: done.code, events, timedOut, seconds: (Date.now() - started) / 1000 };
}

// Seconds spent in each state, from the events' timestamps (for the timing report).
export function stateDurations(events: readonly JobEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < events.length - 1; i++) {
    const e = events[i]!;
    const dt = (Date.parse(events[i + 1]!.ts) - Date.parse(e.ts)) / 1000;
    out[e.state] = (out[e.state] ?? 0) + dt;
  }
  return out;
}

// A one-line summary of a run for the test output.
export function describeRun(r: InstallRun): string {
  const last = r.events.at(-1);
  const phases = Object.entries(stateDurations(r.events)).map(([s, t]) => `${s} ${t.toFixed(1)}s`).join(', ');
  return `job ${r.job} ended ${last?.state ?? '?'} (exit ${r.code}${r.timedOut ? ', cancelled at the deadline' : ''}) in ${r.seconds.toFixed(1)} s: ${phases}`;
}

// Judges an install the lab ran to its end, by the disk and not by how QEMU ended (the inner QEMU exits 0 even when
// its guest crashed): a stalled guest (cancelled at the deadline) or a crashed one (QEMU ended without a power-off)
// is a LabFlake; any other unsuccessful end is a failure, and so is a done job whose disk holds other bytes than
// the system image (a wrong disk is a failure, never a flake to retry).
export async function judgeInstall(run: InstallRun, disk: string, systemImage: string): Promise<void> {
  const last = run.events.at(-1);
  const failure = `${describeRun(run)}: ${last?.message ?? ''}`;
  if (run.timedOut || (last?.detail?.error as { code?: string } | undefined)?.code === 'ERR_QEMU_EXIT') throw new LabFlake(failure);
  if (run.code !== 0) throw new Error(failure);
  const diff = await firstDifference(disk, systemImage);
  if (diff !== undefined) throw new Error(`job ${run.job} ended done but the disk differs from the system image at byte ${diff}`);
}
