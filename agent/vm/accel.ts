import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { QEMU_BINARY_NAME } from './qemu-binary.js';

// The accelerator chosen for the VM and why (reported to the user: TCG is much slower).
export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  reason: string;
}

// What probeAccel may touch; every default is the real thing.
export interface ProbeAccelOptions {
  log: Logger;
  /** Root for /dev/kvm, /boot and /proc/cpuinfo (a fake tree in tests). */
  fsRoot?: string;
  /** Opens /dev/kvm read-write and closes it; throws when that is not possible. */
  openDevice?: (path: string) => Promise<void>;
  /** A Linux kernel to boot under KVM; default /boot/vmlinuz-$(uname -r), then /boot/vmlinuz. */
  probeKernel?: string;
  kernelRelease?: string;
  /** /proc/cpuinfo text; default read from fsRoot. */
  cpuinfo?: string;
  spawn?: typeof nodeSpawn;
  qemuBinary?: string;
  /** How long the probe kernel gets to prove it runs (default 20 s). */
  timeoutMs?: number;
}

// Serial lines that prove a kernel ran well past early boot (no initrd, no root: it must end in a panic).
const RAN_PAST_EARLY_BOOT = /Kernel panic|VFS: Unable to mount root|Freeing unused kernel|Run \/init as init process/;

/**
 * Picks KVM only when it really works: /dev/kvm must open and, when a kernel is at hand, a Linux kernel
 * must boot under KVM (on some nested hosts SeaBIOS runs but Linux hangs). Never throws.
 */
export async function probeAccel(opts: ProbeAccelOptions): Promise<AccelChoice> {
  const root = opts.fsRoot ?? '/';
  const log = opts.log.child({ mod: 'accel' });
  const kvmPath = join(root, 'dev/kvm');
  try {
    await (opts.openDevice ?? openReadWrite)(kvmPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const reason = code === 'ENOENT' ? `${kvmPath} does not exist (no KVM on this host)` : `${kvmPath} cannot be opened (${code})`;
    return decide(log, 'tcg', reason);
  }
  const kernel = opts.probeKernel ?? (await findKernel(root, opts.kernelRelease ?? release()));
  if (kernel === undefined) {
    const cpuinfo = opts.cpuinfo ?? (await readFile(join(root, 'proc/cpuinfo'), 'utf8').catch(() => ''));
    if (/^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) {
      return decide(log, 'tcg', `${kvmPath} opens but no kernel to test it and the CPU shows the hypervisor flag: nested KVM is unproven, using TCG`);
    }
    return decide(log, 'kvm', `${kvmPath} opens and the host is bare metal (no hypervisor flag); no kernel to test it`);
  }
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const result = await bootUnderKvm(kernel, opts.spawn ?? nodeSpawn, opts.qemuBinary ?? QEMU_BINARY_NAME, timeoutMs);
  if (result.ran) return decide(log, 'kvm', `a Linux kernel booted under KVM to "${result.line}" in ${result.ms} ms`);
  return decide(log, 'tcg', result.why);
}

type BootResult = { ran: true; line: string; ms: number } | { ran: false; why: string };

// Boots `kernel` under KVM with no initrd and watches its serial console; kills QEMU in every case.
function bootUnderKvm(kernel: string, spawn: typeof nodeSpawn, qemu: string, timeoutMs: number): Promise<BootResult> {
  const started = Date.now();
  const args = [
    '-machine', 'q35', '-accel', 'kvm', '-m', '256', '-nodefaults', '-no-user-config', '-display', 'none',
    '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1',
  ];
  return new Promise<BootResult>((resolve) => {
    let child: ChildProcess;
    const stderr: string[] = [];
    let settled = false;
    const finish = (r: BootResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ran: false, why: `a Linux kernel under KVM showed no sign of running within ${timeoutMs} ms (KVM hangs here, as in some nested setups): using TCG` });
    }, timeoutMs);
    try {
      child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      clearTimeout(timer);
      resolve({ ran: false, why: `cannot run ${qemu} for the KVM probe: ${(err as Error).message}` });
      return;
    }
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = RAN_PAST_EARLY_BOOT.exec(line);
      if (m) finish({ ran: true, line: line.replace(/^\[[^\]]*\]\s*/, '').slice(0, 120), ms: Date.now() - started });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 5) stderr.shift();
    });
    child.on('error', (err) => finish({ ran: false, why: `cannot run ${qemu} for the KVM probe: ${err.message}` }));
    child.on('close', (code, signal) => {
      const tail = stderr.join(' | ') || 'no output';
      finish({ ran: false, why: `QEMU with KVM exited (${signal ?? `code ${code}`}) before the kernel ran: ${tail}` });
    });
  });
}

async function findKernel(root: string, kernelRelease: string): Promise<string | undefined> {
  for (const p of [`boot/vmlinuz-${kernelRelease}`, 'boot/vmlinuz']) {
    const path = join(root, p);
    try {
      await access(path, constants.R_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

async function openReadWrite(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.close();
}

function decide(log: Logger, accel: 'kvm' | 'tcg', reason: string): AccelChoice {
  log.info({ accel, reason }, 'accelerator chosen');
  return { accel, reason };
}
