// Boots a raw disk alone (snapshot=on, never written) and watches its serial console for a marker line:
// the proof that an installed system really boots from the disk the installer wrote.
import type * as childProcess from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { XepaError, isENOENT } from '../../agent/protocol/index.js';
import { diskBootArgs, type CheckAccel } from './args.js';
import { runQemu } from './run.js';

// What to boot and what to wait for.
export interface BootCheckOptions {
  // Raw disk image (or block device) to boot; never written (snapshot=on).
  disk: string;
  // Substring of a serial line that proves the system booted.
  marker: string;
  timeoutMs: number;
  // Default 'tcg': a Linux guest hangs under this machine's paravirtual KVM (docs/lab-notes.md).
  accel?: CheckAccel;
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

// Boots `disk` until a serial line contains `marker`, QEMU exits, or the timeout; QEMU is always gone on return.
export async function bootDiskUntilMarker(opts: BootCheckOptions): Promise<BootCheckResult> {
  try {
    await fsp.stat(opts.disk);
  } catch (err) {
    if (isENOENT(err)) throw new XepaError('ERR_NOT_FOUND', `cannot boot-check ${opts.disk}: no such file`, { cause: err });
    throw err;
  }
  const r = await runQemu({
    args: diskBootArgs({ disk: opts.disk, memoryMiB: opts.memoryMiB ?? 256, accel: opts.accel }),
    marker: opts.marker,
    timeoutMs: opts.timeoutMs,
    purpose: `boot-check ${opts.disk}`,
    qemu: opts.qemu,
    spawn: opts.spawn,
    log: opts.log,
    clock: opts.clock,
    signal: opts.signal,
  });
  return { ok: r.markerSeen, seconds: r.seconds, serialTail: r.tail };
}
