// Boots a raw disk alone in QEMU (read-only, snapshot=on) and watches its serial console for a marker line:
// the demo's proof that an installed system really boots from the disk the installer wrote.
import * as childProcess from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { XepaError, isENOENT } from '../../agent/protocol/index.js';

// What to boot and what to wait for.
export interface BootCheckOptions {
  // Raw disk image (or block device) to boot; never written (snapshot=on).
  disk: string;
  // Substring of a serial line that proves the system booted.
  marker: string;
  timeoutMs: number;
  // Default 'tcg': a Linux guest hangs under this machine's paravirtual KVM (docs/lab-notes.md).
  accel?: 'kvm' | 'tcg';
  spawn?: typeof childProcess.spawn;
  // Receives every serial line as it arrives.
  log?: (line: string) => void;
  // QEMU binary; default qemu-system-x86_64 from PATH.
  qemu?: string;
  memoryMiB?: number;
  clock?: () => number;
  // Aborting stops QEMU and resolves with ok:false.
  signal?: AbortSignal;
}

// The verdict: ok when the marker was seen, how long that took (or how long QEMU ran), the last serial lines.
export interface BootCheckResult {
  ok: boolean;
  seconds: number;
  serialTail: string[];
}

const TAIL_LINES = 40;

// The QEMU argv for a boot check: q35 with SeaBIOS, the disk alone on virtio, serial on stdio, nothing else.
export function buildBootCheckArgs(opts: Pick<BootCheckOptions, 'disk' | 'accel' | 'memoryMiB'>): string[] {
  // QEMU option syntax: a comma inside a value is written as two commas.
  const file = opts.disk.replace(/,/g, ',,');
  return [
    '-accel', opts.accel ?? 'tcg',
    '-machine', 'q35',
    '-m', String(opts.memoryMiB ?? 256),
    '-nodefaults',
    '-display', 'none',
    '-no-reboot',
    '-serial', 'stdio',
    '-drive', `file=${file},format=raw,if=virtio,snapshot=on`,
  ];
}

// Boots `disk` until a serial line contains `marker`, QEMU exits, or the timeout; QEMU is always gone on return.
export async function bootDiskUntilMarker(opts: BootCheckOptions): Promise<BootCheckResult> {
  const spawn = opts.spawn ?? childProcess.spawn;
  const clock = opts.clock ?? Date.now;
  try {
    await fsp.stat(opts.disk);
  } catch (err) {
    if (isENOENT(err)) throw new XepaError('ERR_NOT_FOUND', `cannot boot-check ${opts.disk}: no such file`, { cause: err });
    throw err;
  }
  const started = clock();
  const child = spawn(opts.qemu ?? 'qemu-system-x86_64', buildBootCheckArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const push = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };

  return new Promise<BootCheckResult>((resolve, reject) => {
    let seen = false;
    let seenAt = 0;
    let pending = '';
    let stderr = '';
    let settled = false;
    const timer = setTimeout(() => stop(), opts.timeoutMs);
    const onAbort = (): void => stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) stop();

    function stop(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    function cleanup(): void {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    function onSerialLine(raw: string): void {
      const line = stripAnsi(raw).replace(/\r/g, '');
      if (!line.trim()) return;
      push(line);
      opts.log?.(line);
      if (!seen && line.includes(opts.marker)) markSeen(0);
    }
    // The disk is a snapshot: nothing to lose by killing QEMU once the marker is seen.
    function markSeen(graceMs: number): void {
      seen = true;
      seenAt = clock();
      if (graceMs === 0) stop();
      else setTimeout(stop, graceMs).unref();
    }

    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onSerialLine);
      // A marker line may arrive in pieces, or never get its newline before power-off: give the rest a moment.
      if (!seen && pending.includes(opts.marker)) markSeen(300);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(new XepaError('ERR_QEMU_START', `cannot start ${opts.qemu ?? 'qemu-system-x86_64'} to boot-check ${opts.disk}: ${err.message}`, { cause: err }));
    });
    child.on('close', () => {
      if (settled) return;
      settled = true;
      cleanup();
      if (pending) onSerialLine(pending);
      for (const line of stderr.split('\n')) if (line.trim()) push(`qemu: ${line.trim()}`);
      resolve({ ok: seen, seconds: ((seen ? seenAt : clock()) - started) / 1000, serialTail: [...tail] });
    });
  });
}

// Terminal escape sequences (GRUB clears the screen over serial) make tails unreadable.
function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
