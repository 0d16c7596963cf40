import { join } from 'node:path';
import type { Handlers } from '../api/index.js';
import type { JobManager } from '../jobs/index.js';
import type { DiskInfo, Plan } from '../protocol/index.js';
import { XepaError, isTerminal } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { findDiskNow } from '../host/index.js';
import { chooseRestore, finishJob, openRestoreTarget, readBackups, restorePartitionTable, type FinishDeps, type FinishableJob, type Inflate, type OpenRestoreTarget } from '../finish/index.js';

// What the finish methods need besides the jobs.
export interface FinishHandlerDeps extends Omit<FinishDeps, 'findDisks'> {
  jobsDir: string;
  listDisks: () => Promise<DiskInfo[]>;
  openTarget?: OpenRestoreTarget; // default: O_EXCL open, size from sysfs
  inflate?: Inflate; // default: streaming gunzip capped at the declared length
  run: ToolRunner;
}

// The move-to-metal methods of the control table: job.backup, finish, disk.restore-partition-table.
export function createFinishHandlers(jobs: JobManager, d: FinishHandlerDeps): Pick<Handlers, 'job.backup' | 'finish' | 'disk.restore-partition-table'> {
  const finishable = (id: string): FinishableJob => {
    const j = jobs.get(id) as Partial<FinishableJob> & ReturnType<JobManager['get']>;
    const plan = j.plan ?? j.summary().plan;
    if (!plan) throw new XepaError('ERR_NOT_FOUND', `job ${id} has no plan to finish`);
    return {
      id,
      dir: j.dir ?? join(d.jobsDir, id),
      plan,
      get state() { return j.state; },
      done: j.done,
      stopForFinish: () => j.stopForFinish?.(),
      errorMessage: () => j.summary().error?.message,
    };
  };
  const findDisks = async (plan: Plan): Promise<{ paths: string[]; problems: string[]; found: DiskInfo[] }> => {
    const now = await d.listDisks();
    const found: DiskInfo[] = [];
    const problems: string[] = [];
    for (const want of plan.disks) {
      const back = findDiskNow(want, now);
      if (!back) problems.push(`${want.path}${want.serial ? ` (serial ${want.serial})` : ''} is not back on the host`);
      else if (back.sizeBytes !== want.sizeBytes) problems.push(`${back.path} changed size: ${want.sizeBytes} -> ${back.sizeBytes}`);
      else found.push(back);
    }
    return { paths: found.map((f) => f.path), problems, found };
  };
  return {
    'job.backup': async ({ job, index }) => {
      const all = await readBackups(finishable(job).dir);
      const backup = all[index];
      return { count: all.length, ...(backup ? { backup } : {}) };
    },
    finish: async (p) => {
      const { run, hostFirmware, reboot, bootCheck, rescueNetwork, landing, readDisk } = d;
      return finishJob(finishable(p.job), p, {
        run, hostFirmware, reboot, findDisks,
        ...(bootCheck ? { bootCheck } : {}), ...(rescueNetwork ? { rescueNetwork } : {}), ...(landing ? { landing } : {}), ...(readDisk ? { readDisk } : {}),
      });
    },
    // Only the named job's own record, onto the disk it was made of, while no job holds it (docs/fidelity.md).
    'disk.restore-partition-table': async (p) => {
      const job = finishable(p.job);
      if (!isTerminal(job.state)) throw new XepaError('ERR_JOB_STATE', `job ${p.job} is ${job.state}: restore a partition table only after the job ended`);
      const { backup, target } = chooseRestore({
        job: { id: job.id, state: job.state, plan: job.plan, backups: await readBackups(job.dir) },
        disk: p.disk,
        supplied: p.backup,
        hostDisks: await d.listDisks(),
        jobs: jobs.list().map((j) => ({ id: j.id, state: j.state, plan: j.plan })),
      });
      const disk = await (d.openTarget ?? openRestoreTarget())(target.path); // exclusive until closed
      try {
        const message = await restorePartitionTable(backup, disk, p.mode, { run: d.run, ...(d.inflate ? { inflate: d.inflate } : {}) });
        return { disk: target.path, mode: p.mode, message };
      } finally {
        await disk.close();
      }
    },
  };
}
