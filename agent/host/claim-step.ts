import type { JobStep } from '../steps/index.js';
import { claimDisksExclusive } from './disk-claims.js';

// The step that holds the plan's raw disks (O_EXCL) for the life of the VM; its undo lets go of them. A crashed
// agent's claims end with its process: nothing to recover.
export function claimDisksStep(claim: (paths: string[]) => Promise<{ release(): Promise<void> }> = claimDisksExclusive): JobStep {
  return {
    name: 'claim-disks',
    async run(ctx) {
      const raw = ctx.job.plan.disks.filter((d) => d.via === 'raw').map((d) => d.path);
      if (raw.length === 0) return;
      ctx.emit('binding', `claiming ${raw.length} disk(s) exclusively (raw block devices)`);
      const held = await claim(raw);
      return () => held.release();
    },
  };
}
