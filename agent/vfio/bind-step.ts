import type { Logger } from 'pino';
import { XepaError } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import { bindToVfio, type BindTarget } from './bind.js';
import { journalPath } from './journal.js';
import { restoreJournal, type RestoreReport } from './restore.js';
import type { VfioDeps } from './vfio-deps.js';

// Fails with ERR_VFIO_RESTORE naming what did not come back.
function checkRestored(report: RestoreReport): void {
  if (report.problems.length > 0) {
    throw new XepaError('ERR_VFIO_RESTORE', `restore incomplete: ${report.problems.join('; ')}`, { details: { restore: report } });
  }
}

// The step that binds the plan's PCI functions (whole IOMMU groups) to vfio-pci, journal first; its undo gives
// them back to their drivers, and an agent that died while they were bound restores them from the journal.
// Without vfio deps (no IOMMU on this host) a plan that binds anything is refused.
export function bindVfioStep(deps: VfioDeps | undefined, seam?: (job: string, devices: BindTarget[]) => Promise<{ restore(): Promise<RestoreReport> }>): JobStep {
  const bind = seam ?? (deps ? (job: string, devices: BindTarget[]) => bindToVfio(deps, job, devices) : undefined);
  return {
    name: 'bind-vfio',
    async run(ctx) {
      const targets = ctx.job.plan.passthrough?.bind ?? [];
      if (targets.length === 0) return;
      if (!bind) throw new XepaError('ERR_VFIO_BIND', 'this agent cannot bind devices to vfio-pci');
      for (const f of ctx.job.plan.passthrough?.forced ?? []) ctx.log.warn({ bdf: f.bdf, reasons: f.reasons, why: f.why }, 'FORCED: binding a protected device');
      const list = targets.map((b) => `${b.bdf} (group ${b.group})`).join(', ');
      ctx.emit('binding', `binding ${targets.length} PCI function(s) to vfio-pci: ${list}`, { detail: { bind: targets } });
      const binding = await bind(ctx.job.id, targets);
      ctx.emit('binding', `bound to vfio-pci: ${list}`);
      return async () => {
        checkRestored(await binding.restore());
        ctx.emit('restoring', 'PCI functions back on their original drivers');
      };
    },
    async recover(job: { id: string }, log: Logger) {
      if (!deps) return;
      const report = await restoreJournal(deps, journalPath(deps.stateDir, job.id));
      if (report.devices.length > 0) log.warn({ job: job.id, devices: report.devices }, 'leftover vfio journal: devices restored');
      checkRestored(report);
    },
  };
}
