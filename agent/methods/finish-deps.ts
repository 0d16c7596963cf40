import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DiskInfo } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { bootCheckInVm, checkFirmware } from '../finish/index.js';
import { findDiskNow } from '../host/index.js';
import { readRescueNetwork } from '../landing/index.js';
import { findOvmf, startVm } from '../vm/index.js';
import type { FinishHandlerDeps } from './finish-methods.js';

// The real outside world of `finish`: the host's firmware mode, its disks, efibootmgr and friends, the
// boot check in a VM, and the reboot (only ever when finish was asked to).
export function createFinishDeps(o: { stateDir: string; run: ToolRunner; log: Logger; listDisks: () => Promise<DiskInfo[]>; efiDir: () => Promise<boolean> }): FinishHandlerDeps {
  const diskPaths = async (plan: { disks: { path: string; serial?: string | undefined }[] }): Promise<string[]> => {
    const now = await o.listDisks();
    return plan.disks.map((d) => findDiskNow(d, now)?.path ?? d.path);
  };
  return {
    jobsDir: join(o.stateDir, 'jobs'),
    listDisks: o.listDisks,
    run: o.run,
    hostFirmware: async () => ((await o.efiDir()) ? 'uefi' : 'bios'),
    // The rescue system's own network, read live at finish time (iproute2's JSON, resolv.conf).
    rescueNetwork: () => readRescueNetwork({ run: o.run, readFile: (p) => readFile(p, 'utf8').catch(() => undefined) }),
    landing: { procFilesystems: () => readFile('/proc/filesystems', 'utf8') },
    // After the reply has left: the rescue system, and this agent, go away.
    reboot: () => void setTimeout(() => spawn('reboot', [], { stdio: 'ignore', detached: true }).on('error', (err) => o.log.error({ err }, 'reboot failed')).unref(), 2000),
    bootCheck: (job, banner, timeoutMs) =>
      bootCheckInVm(job, banner, timeoutMs, {
        startVm: (spec) => startVm(spec, { log: o.log.child({ mod: 'vm', check: job.id }) }),
        firmware: (mode, dir) => checkFirmware(mode, dir, () => findOvmf('/', { secureBoot: job.plan.fidelity?.firmware.secureBoot.vm === true })),
        diskPaths: (j) => diskPaths(j.plan),
      }),
  };
}
