import { join } from 'node:path';
import type { FinishReport, FinishStep, JobState, Plan, RescueNetwork } from '../protocol/index.js';
import { FinishParams, isTerminal, toWireError } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { landNetwork, type LandingDeps } from '../landing/index.js';
import { readBackups } from './backup-store.js';
import { biosBootStep, uefiBootStep } from './boot-step.js';

// The install job as finish sees it.
export interface FinishableJob {
  id: string;
  dir: string;
  plan: Plan;
  readonly state: JobState;
  done: Promise<void>;
  // Stops a VM still running (the installed system booted on, or the installer waits): the job ends done.
  stopForFinish(): void;
  errorMessage?(): string | undefined;
}

// The outside world of finish.
export interface FinishDeps {
  run: ToolRunner;
  hostFirmware: () => Promise<'bios' | 'uefi'>;
  // The planned disks found again now (by serial): their current paths, and what is missing.
  findDisks: (plan: Plan) => Promise<{ paths: string[]; problems: string[] }>;
  // Schedules the host's reboot (after the reply has left).
  reboot: () => void;
  // Boots the installed disks once in a VM and waits for `banner` on a serial port.
  bootCheck?: (job: FinishableJob, banner: string, timeoutMs: number) => Promise<{ ok: boolean; message: string }>;
  // The rescue system's live network (the truth about the server's NIC).
  rescueNetwork?: () => Promise<RescueNetwork>;
  // Opening the installed root (mount, modprobe, /proc/filesystems); without it the root is not opened.
  landing?: Omit<LandingDeps, 'run' | 'mountDir'>;
  // Reads a disk's bytes (the BIOS boot sectors); default: the file itself.
  readDisk?: (disk: string, offset: number, length: number) => Promise<Buffer>;
}

/**
 * The move to metal (docs/fidelity.md): stop the VM, check the devices are back, check the partition
 * backups exist, open the installed root and write its network for the server's NIC (by MAC, from the
 * rescue system's live configuration), make the firmware start it (UEFI: per the boot-entry policy; BIOS:
 * boot code checked on every disk), optionally boot-check, and only when nothing failed and it was asked
 * for, reboot. Each step reports; a failed step never throws.
 */
export async function finishJob(job: FinishableJob, input: FinishParams, deps: FinishDeps): Promise<FinishReport> {
  const p = FinishParams.parse(input);
  const steps: FinishStep[] = [];
  const add = (step: FinishStep['step'], status: FinishStep['status'], message: string, detail?: Record<string, unknown>): void =>
    void steps.push({ step, status, message, ...(detail ? { detail } : {}) });
  const failed = (): boolean => steps.some((s) => s.status === 'fail');

  if (['planned', 'fetching', 'verifying', 'binding', 'booting'].includes(job.state)) {
    add('vm', 'fail', `the install is still ${job.state}: finish once the installer has run`);
  } else if (!isTerminal(job.state)) {
    job.stopForFinish();
    await job.done;
    add('vm', job.state === 'done' ? 'ok' : 'fail', `VM stopped by finish; the job ended ${job.state}`);
  } else if (job.state === 'done') {
    add('vm', 'ok', 'the VM had already ended (job done)');
  } else {
    add('vm', 'fail', `the install ended ${job.state}${job.errorMessage?.() ? `: ${job.errorMessage()}` : ''}: nothing is moved to the metal`);
  }

  const disks = await deps.findDisks(job.plan);
  if (disks.problems.length > 0) add('devices', 'fail', disks.problems.join('; '));
  else add('devices', 'ok', `${job.plan.disks.length} disk(s) back on the host, checked by ${job.plan.disks.every((d) => d.serial) ? 'serial' : 'path'}: ${disks.paths.join(', ')}`);

  const backups = await readBackups(job.dir);
  if (backups.length > 0) add('backup', 'ok', `partition tables of ${backups.map((b) => b.disk).join(', ')} were saved before the install (job.backup)`);
  else add('backup', 'warn', 'no partition table backup was saved for this job');

  if (failed()) {
    add('root', 'skipped', 'not opening the installed system: an earlier step failed');
    add('network', 'skipped', 'not configured: an earlier step failed');
  } else if (!deps.landing) {
    add('root', p.network === 'keep' ? 'skipped' : 'fail', 'this agent cannot open installed systems (no landing tools)');
    add('network', 'skipped', 'not configured: the installed root was not opened');
  } else {
    let rescue: RescueNetwork | undefined;
    let rescueProblem: string | undefined;
    if (!deps.rescueNetwork) rescueProblem = 'this agent does not read the rescue network';
    else rescue = await deps.rescueNetwork().catch((err: unknown) => void (rescueProblem = toWireError(err).message));
    const r = await landNetwork(
      { job: job.id, disks: disks.paths, mode: p.network, ...(rescue ? { rescue } : {}), ...(rescueProblem ? { rescueProblem } : {}) },
      { ...deps.landing, run: deps.run, mountDir: join(job.dir, 'landing-root') },
    );
    add('root', r.root.status, r.root.message, r.root.detail);
    add('network', r.network.status, r.network.message, r.network.detail);
  }

  const fw = await deps.hostFirmware();
  const policy = p.efi === 'skip' ? 'none' : p.bootEntry;
  if (fw === 'bios') {
    add('efi', 'skipped', 'the server boots in BIOS mode: no UEFI entry; keep the disk first in the BIOS boot order');
    if (failed()) add('bios', 'skipped', 'boot sectors not checked: an earlier step failed');
    else {
      const r = await biosBootStep(disks.paths, deps.run, deps.readDisk);
      add('bios', r.status, r.message, r.detail);
    }
  } else if (failed()) add('efi', 'skipped', 'not touching the firmware: an earlier step failed');
  else {
    const r = await uefiBootStep({ disks: disks.paths, policy, bootOrder: p.bootOrder, workDir: join(job.dir, 'esp-copy') }, deps.run);
    add('efi', r.status, r.message, r.detail);
  }

  if (!p.banner) add('check', 'skipped', 'no first-boot check asked for (--check-banner, or --check-tcp on the controller)');
  else if (failed()) add('check', 'skipped', 'not booting the installed system: an earlier step failed');
  else if (!deps.bootCheck) add('check', 'skipped', 'this agent cannot boot-check the installed disks');
  else {
    const r = await deps.bootCheck(job, p.banner, p.bannerTimeoutMs).catch((err: unknown) => ({ ok: false, message: toWireError(err).message }));
    add('check', r.ok ? 'ok' : 'fail', r.message);
  }

  let rebooting = false;
  if (!p.reboot) add('reboot', 'skipped', 'no reboot asked for (--reboot)');
  else if (failed()) add('reboot', 'skipped', 'not rebooting: a step failed');
  else {
    deps.reboot();
    rebooting = true;
    add('reboot', 'ok', 'the server reboots now');
  }
  return { job: job.id, ok: !failed(), steps, rebooting };
}
