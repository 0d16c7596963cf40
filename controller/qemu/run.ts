// Runs a check VM with serial on stdio and watches it: until a marker line, until QEMU exits, or until a time limit.
// QEMU is always gone when the promise settles (check VMs never outlive their check).
import * as childProcess from 'node:child_process';
import { XepaError } from '../../agent/protocol/index.js';

// One run.
export interface QemuRunOptions {
  args: string[];
  // Stop QEMU as soon as a serial line contains this; without it, wait for QEMU to exit.
  marker?: string;
  timeoutMs: number;
  // QEMU binary; default qemu-system-x86_64 from PATH.
  qemu?: string;
  // What the run is for, in the error when QEMU cannot start ("boot-check disk.img").
  purpose?: string;
  spawn?: typeof childProcess.spawn;
  // Receives every serial line as it arrives.
  log?: (line: string) => void;
  clock?: () => number;
  // Aborting stops QEMU; the run resolves as it ended.
  signal?: AbortSignal;
}

// How it went: `seconds` counts until the marker when it was seen, else until QEMU ended.
export interface QemuRunResult {
  markerSeen: boolean;
  timedOut: boolean;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  // The last serial lines, then QEMU's own stderr lines prefixed "qemu: ".
  tail: string[];
}

const TAIL = 40;
// A marker seen in a line whose newline has not come yet: give the rest of that line this long to arrive.
const PARTIAL_LINE_GRACE_MS = 300;
// Terminal escape sequences (GRUB clears the screen over serial) make tails unreadable.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

// Starts QEMU and resolves when the marker is seen (QEMU killed), QEMU exits, or time runs out (QEMU killed).
export function runQemu(o: QemuRunOptions): Promise<QemuRunResult> {
  const spawn = o.spawn ?? childProcess.spawn;
  const clock = o.clock ?? Date.now;
  const qemu = o.qemu ?? 'qemu-system-x86_64';
  const started = clock();
  const child = spawn(qemu, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let markerAt: number | undefined;
  let partialMarker: NodeJS.Timeout | undefined; // the grace timer while the marker's line is incomplete
  let timedOut = false;
  let pending = '';
  let stderr = '';
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onLine = (raw: string): void => {
    const line = raw.replace(ANSI, '').replace(/\r/g, '');
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    o.log?.(line);
    // The disk is a snapshot or scratch: nothing to lose by killing QEMU once the marker's line is complete.
    if (o.marker && (markerAt === undefined || partialMarker) && line.includes(o.marker)) {
      markerAt ??= clock();
      kill();
    }
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    const onAbort = (): void => kill();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) kill();
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      clearTimeout(partialMarker);
      o.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
      // A marker line may arrive in pieces, or never get its newline before the guest powers off.
      if (o.marker && markerAt === undefined && pending.includes(o.marker)) {
        markerAt = clock();
        partialMarker = setTimeout(kill, PARTIAL_LINE_GRACE_MS);
      }
    });
    // Keep the end of a chatty stderr only.
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c).length > 1 << 16 && (stderr = stderr.slice(-4096)));
    child.on('error', (err) => {
      if (!finish()) return;
      reject(new XepaError('ERR_QEMU_START', `cannot start ${qemu}${o.purpose ? ` to ${o.purpose}` : ''}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      if (!finish()) return;
      if (pending) onLine(pending);
      for (const l of stderr.split('\n')) if (l.trim()) tail.push(`qemu: ${l.trim()}`);
      const markerSeen = markerAt !== undefined;
      resolve({ markerSeen, timedOut: timedOut && !markerSeen, exitCode: code, signal: sig, seconds: ((markerAt ?? clock()) - started) / 1000, tail: tail.slice(-TAIL) });
    });
  });
}
