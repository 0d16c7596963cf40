import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OvmfFiles, VmFirmware, VmSpec } from '../vm/index.js';
import type { FinishableJob } from './finish-job.js';

// What bootCheckInVm needs: how to start and stop a VM, the firmware, a clock.
export interface BootCheckDeps {
  startVm: (spec: VmSpec) => Promise<{ exited: Promise<unknown>; stop(graceMs?: number): Promise<unknown> }>;
  // OVMF for the check; `vars` is the job's own variable store (the installer's boot entries are in it).
  firmware: (mode: 'bios' | 'uefi', jobDir: string) => Promise<VmFirmware>;
  diskPaths: (job: FinishableJob) => Promise<string[]>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Boots the installed disks once in a VM, without the CD and with `-snapshot` (every guest write goes to a
 * temporary overlay: the disks stay exactly as the installer left them), and waits for `banner` on either
 * serial port. The VM is stopped in every case.
 */
export async function bootCheckInVm(job: FinishableJob, banner: string, timeoutMs: number, deps: BootCheckDeps): Promise<{ ok: boolean; message: string }> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const dir = job.dir;
  const logs: [string, string] = [join(dir, 'check-serial0.log'), join(dir, 'check-serial1.log')];
  const plan = job.plan;
  const spec: VmSpec = {
    name: `xepa-${job.id}-check`,
    accel: plan.accel,
    memoryMiB: plan.memoryMiB,
    cpus: plan.cpus,
    ...(plan.fidelity ? { cpuModel: plan.fidelity.cpu.model } : {}),
    firmware: await deps.firmware(plan.firmware, dir),
    disks: (await deps.diskPaths(job)).map((path, i) => ({ path, bus: plan.diskBus, ...(plan.disks[i]?.serial ? { serial: plan.disks[i]!.serial! } : {}) })),
    sockets: { qmp: join(dir, 'check-qmp.sock'), vnc: join(dir, 'check-vnc.sock'), serial: [join(dir, 'check-serial0.sock'), join(dir, 'check-serial1.sock')] },
    serialLogs: logs,
    bootOrder: 'disk-first',
    extraArgs: ['-snapshot'],
  };
  // QEMU appends to its serial logs: an earlier check's banner must not pass this one.
  await Promise.all(logs.map((l) => rm(l, { force: true })));
  const started = now();
  const vm = await deps.startVm(spec);
  let exited = false;
  void vm.exited.then(() => (exited = true));
  try {
    for (;;) {
      const ended = exited; // read before the logs: a guest that prints and powers off is still seen
      for (const [i, log] of logs.entries()) {
        const text = await readFile(log, 'utf8').catch(() => '');
        if (text.includes(banner)) return { ok: true, message: `the installed system printed "${banner}" on ttyS${i} after ${Math.round((now() - started) / 1000)} s (booted from its disks in a VM, writes discarded)` };
      }
      if (ended) return { ok: false, message: `the VM ended before "${banner}" appeared on a serial port` };
      if (now() - started > timeoutMs) return { ok: false, message: `no "${banner}" on a serial port within ${timeoutMs / 1000} s of booting the installed disks` };
      await sleep(500);
    }
  } finally {
    await vm.stop(5000).catch(() => undefined);
  }
}

// The firmware for the check: SeaBIOS, or OVMF with a copy of the job's own variable store (the boot entries
// the installer wrote are in it; the job's file itself is left as it is).
export async function checkFirmware(mode: 'bios' | 'uefi', jobDir: string, found: () => Promise<OvmfFiles>): Promise<VmFirmware> {
  if (mode === 'bios') return { mode: 'bios' };
  const f = await found();
  if (f.kind === 'unified') {
    const copy = join(jobDir, 'check-OVMF.fd');
    await copyFile(join(jobDir, 'OVMF.fd'), copy).catch(() => copyFile(f.imagePath, copy));
    return { mode: 'uefi', imagePath: copy };
  }
  const copy = join(jobDir, 'check-VARS.fd');
  await copyFile(join(jobDir, 'OVMF_VARS.fd'), copy).catch(() => copyFile(f.varsPath, copy));
  return { mode: 'uefi', codePath: f.codePath, varsPath: copy, ...(f.secureBoot ? { secureBoot: true } : {}) };
}
