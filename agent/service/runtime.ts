import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DiskInfo } from '../protocol/index.js';
import { fetchIso } from '../iso/index.js';
import type { JobRuntime } from '../jobs/index.js';
import { findOvmf, prepareUefiVars, startVm } from '../vm/index.js';
import { claimDisksExclusive } from './disk-claims.js';

// The real outside world of an install job: HTTP fetch into isoDir, OVMF/SeaBIOS, QEMU, raw disks.
export function createJobRuntime(o: { log: Logger; isoDir: string; listDisks: () => Promise<DiskInfo[]> }): JobRuntime {
  mkdirSync(o.isoDir, { recursive: true, mode: 0o700 });
  return {
    log: o.log,
    now: () => new Date(),
    fetchIso: (iso, opts) =>
      fetchIso(
        { url: iso.url, sha256: iso.sha256, size: iso.size, destDir: o.isoDir },
        { log: o.log.child({ mod: 'iso' }), signal: opts.signal, onProgress: opts.onProgress, budget: { reserveBytes: opts.reserveBytes } },
      ),
    prepareFirmware: async (mode, jobDir) => (mode === 'bios' ? { mode: 'bios' } : prepareUefiVars(await findOvmf(), jobDir)),
    startVm: async (spec) => {
      const vm = await startVm(spec, { log: o.log.child({ mod: 'vm' }) });
      return {
        pid: vm.pid,
        exited: vm.exited,
        stop: (graceMs) => vm.stop(graceMs),
        onGuestEvent: (fn) => vm.qmp.on('event', (e: { event: string; data?: unknown }) => fn(e.event, e.data)),
      };
    },
    claimDisks: (_job, paths) => claimDisksExclusive(paths),
    verifyDisks: async (plan) => {
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
