import type { IncomingMessage } from 'node:http';
import type { JobState } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import type { QmpClient } from '../qmp/index.js';

/** The part of the supervisor's QMP client the consoles use (the only QMP connection to QEMU). */
export type QmpPort = Pick<QmpClient, 'greeting' | 'closed' | 'execute' | 'on' | 'off'>;

/** Where one running VM's consoles are. */
export interface ConsoleTarget {
  job: string;
  dir: string; // the job directory (screendumps are written there)
  vnc: string; // unix socket
  serial: readonly string[]; // unix sockets, COM1 and COM2
  serialLogs: readonly string[]; // QEMU's log of each serial port (scrollback from before the first viewer)
  qmp: QmpPort;
}

// Finds the target of a console connection: the job named by `?job=ID`, else the one job with a running VM.
// Throws ERR_NOT_FOUND (no such job, or none running), ERR_JOB_STATE (its VM is not running) or
// ERR_BAD_REQUEST (several running: the caller must name one).
export type ConsoleTargets = (jobId: string | undefined) => ConsoleTarget;

/** A job that can have a VM (InstallJob); jobs of earlier agent runs have none of this. */
export interface ConsoleCapableJob {
  dir: string;
  consoles: { vnc: string; serial: string[] };
  serialLogs: readonly string[];
  vmConsole(): { qmp: QmpPort } | undefined;
}

/** What jobConsoleTargets needs from the agent's jobs (JobManager fits). */
export interface ConsoleJobSource {
  list(): { id: string; state: JobState }[];
  get(id: string): { id: string; state: JobState } & Partial<ConsoleCapableJob>;
}

// Console targets backed by the agent's jobs.
export function jobConsoleTargets(jobs: ConsoleJobSource): ConsoleTargets {
  const targetOf = (job: ReturnType<ConsoleJobSource['get']>): ConsoleTarget | undefined => {
    const vm = job.vmConsole?.();
    if (!vm || !job.dir || !job.consoles) return undefined;
    return { job: job.id, dir: job.dir, vnc: job.consoles.vnc, serial: job.consoles.serial, serialLogs: job.serialLogs ?? [], qmp: vm.qmp };
  };
  return (jobId) => {
    if (jobId !== undefined) {
      const job = jobs.get(jobId);
      const t = targetOf(job);
      if (!t) throw new XepaError('ERR_JOB_STATE', `job ${jobId} is ${job.state}: its VM is not running`, { details: { job: jobId, state: job.state } });
      return t;
    }
    const running = jobs.list().flatMap((s) => {
      const t = targetOf(jobs.get(s.id));
      return t ? [t] : [];
    });
    if (running.length === 1) return running[0]!;
    if (running.length === 0) throw new XepaError('ERR_NOT_FOUND', 'no job has a running VM on this agent');
    throw new XepaError('ERR_BAD_REQUEST', `${running.length} jobs have a running VM (${running.map((t) => t.job).join(', ')}): name one with ?job=ID`);
  };
}

// The `?job=` of a console request (job ids may travel in URLs; tokens never do).
export function jobParam(req: IncomingMessage): string | undefined {
  const job = new URL(req.url ?? '/', 'https://agent').searchParams.get('job');
  if (job === null || job === '') return undefined;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(job)) throw new XepaError('ERR_BAD_REQUEST', `not a job id: ${JSON.stringify(job.slice(0, 40))}`);
  return job;
}
