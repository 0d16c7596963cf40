import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DiskInfo } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import { type VfioDeps, bindToVfio, waitForDisks } from '../vfio/index.js';
import { fetchIso } from '../iso/index.js';
import type { JobRuntime } from '../jobs/index.js';
import { findOvmf, prepareUefiVars, startVm } from '../vm/index.js';
import { claimDisksExclusive } from './disk-claims.js';

// The real outside world of an install job: HTTP fetch into isoDir, OVMF/SeaBIOS, QEMU, raw disks.
// With `vfio`, plans that pass controllers through bind them (journal in vfio.stateDir) and restore them.
// With `fidelity`, jobs get the host's SMBIOS, swtpm, answer media and partition-table backups (docs/fidelity.md).
export function createJobRuntime(o: {
  log: Logger;
  isoDir: string;
  listDisks: () => Promise<DiskInfo[]>;
  vfio?: VfioDeps;
  fidelity?: Pick<JobRuntime, 'prepareFidelity' | 'backupPartitionTables'>;
}): JobRuntime {
  mkdirSync(o.isoDir, { recursive: true, mode: 0o700 });
  return {
    log: o.log,
    now: () => new Date(),
    fetchIso: (iso, opts) =>
      fetchIso(
        { url: iso.url, sha256: iso.sha256, size: iso.size, destDir: o.isoDir },
        { log: o.log.child({ mod: 'iso' }), signal: opts.signal, onProgress: opts.onProgress, budget: { reserveBytes: opts.reserveBytes } },
      ),
    prepareFirmware: async (mode, jobDir, opts) => (mode === 'bios' ? { mode: 'bios' } : prepareUefiVars(await findOvmf('/', { secureBoot: opts?.secureBoot === true }), jobDir)),
    ...o.fidelity,
    startVm: async (spec) => {
      const vm = await startVm(spec, { log: o.log.child({ mod: 'vm' }) });
      return {
        pid: vm.pid,
        exited: vm.exited,
        stop: (graceMs) => vm.stop(graceMs),
        onGuestEvent: (fn) => vm.qmp.on('event', (e: { event: string; data?: unknown }) => fn(e.event, e.data)),
        // QEMU re-reads the boot order at each reset: the boot in progress keeps the CD, later ones start from disk.
        demoteCdrom: async () => void (await vm.qmp.execute('qom-set', { path: '/machine/peripheral/cdrom0', property: 'bootindex', value: 1000 })),
        qmp: vm.qmp,
      };
    },
    claimDisks: (_job, paths) => claimDisksExclusive(paths),
    ...(o.vfio ? { bindVfio: bindVfioWith(o.vfio) } : {}),
    verifyDisks: async (plan) => {
      // Disks of a passed-through controller come back when its driver probes again: wait for them.
      if (plan.disks.some((d) => d.via === 'vfio')) return waitForDisks(plan.disks, o.listDisks);
      const now = await o.listDisks();
      const problems: string[] = [];
      for (const d of plan.disks) {
        const back = d.serial ? now.find((x) => x.serial === d.serial) : now.find((x) => x.path === d.path);
        if (!back) problems.push(`${d.path}${d.serial ? ` (serial ${d.serial})` : ''} is gone`);
        else if (back.sizeBytes !== d.sizeBytes) problems.push(`${back.path} changed size: ${d.sizeBytes} -> ${back.sizeBytes}`);
      }
      return problems;
    },
  };
}

// bindVfio for the real runtime: bind with a journal; release restores and fails naming what did not come back.
function bindVfioWith(deps: VfioDeps): NonNullable<JobRuntime['bindVfio']> {
  return async (job, devices) => {
    const binding = await bindToVfio(deps, job, devices);
    return {
      release: async () => {
        const report = await binding.restore();
        if (report.problems.length > 0) {
          throw new XepaError('ERR_VFIO_RESTORE', `restore incomplete: ${report.problems.join('; ')}`, { details: { restore: report } });
        }
      },
    };
  };
}
