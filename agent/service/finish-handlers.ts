import { join } from 'node:path';
import type { Handlers } from '../api/index.js';
import type { JobManager } from '../jobs/index.js';
import type { DiskInfo, Plan } from '../protocol/index.js';
import { XepaError, isTerminal } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { finishJob, readBackups, restorePartitionTable, type DiskIo, type FinishDeps, type FinishableJob } from '../finish/index.js';

// What the finish methods need besides the jobs.
export interface FinishHandlerDeps extends Omit<FinishDeps, 'findDisks'> {
  jobsDir: string;
  listDisks: () => Promise<DiskInfo[]>;
  io?: DiskIo;
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
      const back = want.serial ? now.find((x) => x.serial === want.serial) : now.find((x) => x.path === want.path);
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
      const { run, hostFirmware, reboot, bootCheck } = d;
      return finishJob(finishable(p.job), p, { run, hostFirmware, reboot, findDisks, ...(bootCheck ? { bootCheck } : {}) });
    },
    'disk.restore-partition-table': async (p) => {
      const job = finishable(p.job);
      if (!isTerminal(job.state)) throw new XepaError('ERR_JOB_STATE', `job ${p.job} is ${job.state}: restore a partition table only after the job ended`);
      const backup = p.backup ?? (await readBackups(job.dir)).find((b) => b.disk === p.disk || b.serial === p.disk);
      if (!backup) throw new XepaError('ERR_NOT_FOUND', `job ${p.job} saved no partition table for ${p.disk}`);
      const disks = await d.listDisks();
      const target = backup.serial ? disks.find((x) => x.serial === backup.serial) : disks.find((x) => x.path === backup.disk);
      if (!target) throw new XepaError('ERR_DEVICE_NOT_FOUND', `${backup.disk}${backup.serial ? ` (serial ${backup.serial})` : ''} is not on the host`);
      if (target.inUse.length > 0) throw new XepaError('ERR_DEVICE_BUSY', `${target.path} is in use (${target.inUse.join(', ')}): not rewriting its partition table`);
      const message = await restorePartitionTable(backup, target.path, target.sizeBytes, p.mode, { run: d.run, ...(d.io ? { io: d.io } : {}) });
      return { disk: target.path, mode: p.mode, message };
    },
  };
}
