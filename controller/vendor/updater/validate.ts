// Runs a release's validation (the module says which kind): a kernel boot to a serial marker, an ISO boot to a
// marker, or an install onto a scratch disk followed by a boot of that disk. Promotion waits on the verdict.
import * as childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { XepaError } from '../../../agent/protocol/index.js';
import { diskBootArgs, isoBootArgs, kernelBootArgs, runQemu, type QemuRunResult } from '../../qemu/index.js';
import { fileUrl } from '../catalog/urls.js';
import { renderCmdline } from '../os/cmdline.js';
import type { OsModule } from '../os/schema.js';
import type { Release, Store } from '../store/index.js';

// What a validation needs from outside.
export interface ValidateDeps {
  store: Store;
  spawn?: typeof childProcess.spawn;
  qemu?: string;
  accel?: 'tcg' | 'kvm';
  // The URL hosts reach the vendor server at ({file:...} in command lines); validation VMs have no network.
  publicUrl?: string | undefined;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

// The verdict.
export interface ValidationOutcome {
  ok: boolean;
  kind: string;
  seconds: number;
  reason: string;
  log: string[];
}

function blobOf(store: Store, r: Release, name: string): string {
  const f = r.files.find((x) => x.name === name);
  if (!f) throw new XepaError('ERR_NOT_FOUND', `${r.version} has no file ${name}`);
  return store.blobs.blobPath(f.sha256);
}

// Concatenates initrds (Linux accepts concatenated cpio archives) into one scratch file when there are several.
async function oneInitrd(paths: string[], dir: string): Promise<string> {
  if (paths.length === 1) return paths[0]!;
  const out = join(dir, `initrd-${randomBytes(4).toString('hex')}`);
  const ws = createWriteStream(out);
  for (const p of paths) await pipeline(createReadStream(p), ws, { end: false });
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return out;
}

function verdict(kind: string, r: QemuRunResult, marker: string, limitS: number): ValidationOutcome {
  const reason = r.markerSeen
    ? `"${marker}" on serial after ${r.seconds.toFixed(1)} s`
    : r.timedOut
      ? `no "${marker}" on serial within ${limitS} s`
      : `QEMU ended (${r.signal ?? `exit ${r.exitCode}`}) before "${marker}" appeared`;
  return { ok: r.markerSeen, kind, seconds: r.seconds, reason, log: r.tail.slice(-20) };
}

// Validates `r` (a release of `m` already in the store).
export async function validateRelease(m: OsModule, r: Release, d: ValidateDeps): Promise<ValidationOutcome> {
  const v = m.validation;
  const run = { spawn: d.spawn, qemu: d.qemu, log: d.log, signal: d.signal, purpose: `validate ${m.name} ${r.version}` };
  const accel = d.accel ?? 'tcg';
  const scratch = join(d.store.root, 'tmp', `validate-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(scratch, { recursive: true });
  try {
    switch (v.kind) {
      case 'manual':
        return { ok: false, kind: v.kind, seconds: 0, reason: 'this module is validated by hand: `xepa vendor promote`', log: [] };
      case 'kernel-boot': {
        if (m.boot.method !== 'kernel-initrd') throw new XepaError('ERR_MODULE_INVALID', `${m.name}: kernel-boot validation needs a kernel-initrd module`);
        const boot = m.boot;
        const script = boot.cmdlineFromFile ? await fsp.readFile(blobOf(d.store, r, boot.cmdlineFromFile), 'utf8') : undefined;
        const cmdline = renderCmdline(m, { version: r.version, fileUrl: (n) => fileUrl(d.publicUrl ?? 'http://xepa-vendor.invalid', m.name, r.version, n), upstreamScript: script });
        const initrd = await oneInitrd(boot.initrds.map((n) => blobOf(d.store, r, n)), scratch);
        const append = [cmdline, v.append, 'panic=-1'].filter(Boolean).join(' ');
        const res = await runQemu({ ...run, args: kernelBootArgs({ kernel: blobOf(d.store, r, boot.kernel), initrd, append, memoryMiB: v.memoryMiB, accel }), marker: v.marker, timeoutMs: v.timeoutSeconds * 1000 });
        return verdict(v.kind, res, v.marker, v.timeoutSeconds);
      }
      case 'iso-boot': {
        const iso = blobOf(d.store, r, isoName(m, r));
        const res = await runQemu({ ...run, args: isoBootArgs({ iso, memoryMiB: v.memoryMiB, accel }), marker: v.marker, timeoutMs: v.timeoutSeconds * 1000 });
        return verdict(v.kind, res, v.marker, v.timeoutSeconds);
      }
      case 'iso-install': {
        const iso = blobOf(d.store, r, isoName(m, r));
        const disk = join(scratch, 'disk.img');
        const fh = await fsp.open(disk, 'w');
        await fh.truncate(v.diskMiB * 1024 * 1024).finally(() => fh.close());
        const inst = await runQemu({ ...run, args: isoBootArgs({ iso, disk, memoryMiB: v.memoryMiB, accel }), timeoutMs: v.installTimeoutSeconds * 1000 });
        if (inst.timedOut || inst.exitCode !== 0) {
          const why = inst.timedOut ? `the installer did not power off within ${v.installTimeoutSeconds} s` : `the installer VM ended with ${inst.signal ?? `exit ${inst.exitCode}`}`;
          return { ok: false, kind: v.kind, seconds: inst.seconds, reason: why, log: inst.tail.slice(-20) };
        }
        const boot = await runQemu({ ...run, args: diskBootArgs({ disk, memoryMiB: v.memoryMiB, accel }), marker: v.bootMarker, timeoutMs: v.bootTimeoutSeconds * 1000 });
        const out = verdict(v.kind, boot, v.bootMarker, v.bootTimeoutSeconds);
        return { ...out, seconds: inst.seconds + boot.seconds, reason: `installed in ${inst.seconds.toFixed(1)} s; installed disk: ${out.reason}` };
      }
    }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

// The ISO a release boots: the module's ISO, or the GRUB ISO built from kernel+initrd.
function isoName(m: OsModule, r: Release): string {
  if (m.boot.method === 'iso') return m.boot.iso;
  const wrapped = r.files.find((f) => f.role === 'boot-iso');
  if (!wrapped) throw new XepaError('ERR_NOT_FOUND', `${m.name} ${r.version} has no boot ISO`);
  return wrapped.name;
}
