import type { ToolRunner } from '../fidelity/index.js';
import type { Plan } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import { backupPartitionTable } from './partition-backup.js';
import { saveBackups } from './backup-store.js';

/** What a backup reports per disk (the job event's detail). */
export interface SavedTable {
  disk: string;
  serial?: string;
  sfdisk?: string;
}

// Saves every target disk's partition table (sfdisk dump and raw ends) in the job directory.
export function saveTablesWith(run: ToolRunner): (jobDir: string, plan: Plan) => Promise<SavedTable[]> {
  return async (jobDir, plan) => {
    const saved = [];
    for (const d of plan.disks.filter((x) => x.via === 'raw' || x.via === 'vfio')) {
      saved.push(await backupPartitionTable({ path: d.path, sizeBytes: d.sizeBytes, serial: d.serial, wwn: d.wwn }, { run }));
    }
    await saveBackups(jobDir, saved);
    return saved.map((b) => ({ disk: b.disk, ...(b.serial ? { serial: b.serial } : {}), ...(b.sfdisk ? { sfdisk: b.sfdisk } : {}) }));
  };
}

// The step that saves the target disks' partition tables in the job directory before anything can write them
// (and before binding: vfio-pci hides the disks). `xepa finish` fetches them (job.backup); restoring one is
// disk.restore-partition-table. Nothing to undo: the backups are the job's record.
export function backupPartitionTablesStep(save: (jobDir: string, plan: Plan) => Promise<SavedTable[]>): JobStep {
  return {
    name: 'backup-partition-tables',
    async run(ctx) {
      const partitionTables = await save(ctx.job.dir, ctx.job.plan);
      const list = partitionTables.map((s) => `${s.disk} (${s.sfdisk ? 'partition table' : 'no partition table'})`).join(', ');
      ctx.emit('binding', `saved before the install: ${list}; xepa finish fetches them (job.backup)`, { detail: { partitionTables } });
    },
  };
}
