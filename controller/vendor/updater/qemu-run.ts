// Runs QEMU with serial on stdio and watches it: until a marker line, until QEMU exits, or until a time limit.
// QEMU is always gone when the promise settles (validation VMs never outlive their check).
import * as childProcess from 'node:child_process';
import { XepaError } from '../../../agent/protocol/index.js';

// One run.
export interface QemuRunOptions {
  args: string[];
  // Stop QEMU as soon as a serial line contains this; without it, wait for QEMU to exit.
  marker?: string;
  timeoutMs: number;
  qemu?: string;
  spawn?: typeof childProcess.spawn;
  log?: (line: string) => void;
  clock?: () => number;
  signal?: AbortSignal;
}

// How it went.
export interface QemuRunResult {
  markerSeen: boolean;
  timedOut: boolean;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  tail: string[];
}

const TAIL = 40;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

// Starts QEMU and resolves when the marker is seen (QEMU killed), QEMU exits, or time runs out (QEMU killed).
export function runQemu(o: QemuRunOptions): Promise<QemuRunResult> {
  const spawn = o.spawn ?? childProcess.spawn;
  const clock = o.clock ?? Date.now;
  const qemu = o.qemu ?? 'qemu-system-x86_64';
  const started = clock();
  const child = spawn(qemu, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let markerSeen = false;
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
    if (o.marker && !markerSeen && line.includes(o.marker)) {
      markerSeen = true;
      kill();
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    const onAbort = (): void => kill();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
      // a marker may never get its newline before the guest powers off
      if (o.marker && !markerSeen && pending.includes(o.marker)) onLine(pending), (pending = '');
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c).length > 1 << 16 && (stderr = stderr.slice(-4096)));
    child.on('error', (err) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(new XepaError('ERR_QEMU_START', `cannot start ${qemu}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (pending) onLine(pending);
      for (const l of stderr.split('\n')) if (l.trim()) tail.push(`qemu: ${l.trim()}`);
      resolve({ markerSeen, timedOut, exitCode: code, signal: sig, seconds: (clock() - started) / 1000, tail: tail.slice(-TAIL) });
    });
  });
}
