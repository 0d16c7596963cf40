import { readFile, realpath, statfs as fsStatfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { XepaError } from '../protocol/index.js';

// statfs(2) magic numbers of filesystems whose pages are RAM (linux/magic.h).
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
const RAM_FS_TYPES = new Set(['tmpfs', 'ramfs', 'rootfs']);

// The part of fs.statfs the budget needs.
export interface FsStats {
  type: number;
  bsize: number;
  blocks: number;
  bavail: number;
}

// The host reads behind the budget, injectable: statfs of a dir, /proc/meminfo and /proc/mounts contents.
export interface BudgetIo {
  statfs: (path: string) => Promise<FsStats>;
  meminfo: () => Promise<string>;
  mounts: () => Promise<string>;
}

// Real defaults for BudgetIo.
export const defaultBudgetIo: BudgetIo = {
  statfs: (path) => fsStatfs(path),
  meminfo: () => readFile('/proc/meminfo', 'utf8'),
  mounts: () => readFile('/proc/mounts', 'utf8'),
};

// What must fit: `sizeBytes` still to be written into `dir`, keeping `reserveBytes` of RAM for the VM.
export interface BudgetRequest {
  sizeBytes: number;
  dir: string;
  reserveBytes: number;
}

// What the check saw, for logs and plans.
export interface BudgetReport {
  onRam: boolean;
  fsType?: string;
  freeBytes?: number;
  memAvailableBytes?: number;
}

// Parses MemAvailable (kB) out of /proc/meminfo content; undefined when absent (kernels < 3.14).
export function parseMemAvailable(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

// The filesystem type of the mount holding `dir`, from /proc/mounts content (longest prefix, last mount wins).
// An overlay (live rescue systems) reports the type of its upper directory, where new files land.
export function fsTypeOf(dir: string, mounts: string, depth = 0): string | undefined {
  let best: { point: string; type: string; opts: string } | undefined;
  for (const line of mounts.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const point = unescapeMount(fields[1] as string);
    const covers = point === '/' || dir === point || dir.startsWith(`${point}/`);
    if (covers && (!best || point.length >= best.point.length)) best = { point, type: fields[2] as string, opts: fields[3] as string };
  }
  if (best?.type === 'overlay' && depth < 2) {
    const upper = /(?:^|,)upperdir=([^,]+)/.exec(best.opts)?.[1];
    if (upper) return fsTypeOf(unescapeMount(upper), mounts, depth + 1) ?? best.type;
  }
  return best?.type;
}

// /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

// Refuses a download that would not fit: ERR_NO_SPACE when the filesystem is short, ERR_NO_MEMORY when the ISO
// sits in RAM (tmpfs/ramfs) and would leave less than `reserveBytes` of MemAvailable for the VM.
export async function checkBudget(req: BudgetRequest, io: Partial<BudgetIo> = {}): Promise<BudgetReport> {
  const { statfs, meminfo, mounts } = { ...defaultBudgetIo, ...io };
  const dir = await realpath(req.dir).catch(() => resolve(req.dir));
  const st = await statfs(dir);
  const fsType = fsTypeOf(dir, await mounts().catch(() => ''));
  const onRam = st.type === TMPFS_MAGIC || st.type === RAMFS_MAGIC || (fsType !== undefined && RAM_FS_TYPES.has(fsType));
  const report: BudgetReport = { onRam };
  if (fsType) report.fsType = fsType;
  const where = `${req.dir}${fsType ? ` (${fsType})` : ''}`;

  // ramfs has no size limit and reports 0 blocks: only RAM bounds it.
  const unlimited = st.type === RAMFS_MAGIC || st.blocks === 0;
  if (!unlimited) {
    const free = st.bavail * st.bsize;
    report.freeBytes = free;
    if (free < req.sizeBytes) {
      throw new XepaError(
        'ERR_NO_SPACE',
        `the ISO needs ${formatBytes(req.sizeBytes)} in ${where} but only ${formatBytes(free)} is free`,
        { details: { dir: req.dir, needBytes: req.sizeBytes, freeBytes: free } },
      );
    }
  }

  if (onRam) {
    const avail = parseMemAvailable(await meminfo());
    if (avail === undefined) {
      throw new XepaError('ERR_NO_MEMORY', `cannot tell whether the ISO fits in RAM: /proc/meminfo has no MemAvailable`);
    }
    report.memAvailableBytes = avail;
    const left = avail - req.sizeBytes;
    if (left < req.reserveBytes) {
      throw new XepaError(
        'ERR_NO_MEMORY',
        `the ISO (${formatBytes(req.sizeBytes)}) would be kept in RAM in ${where}, leaving ${formatBytes(Math.max(left, 0))} ` +
          `of ${formatBytes(avail)} available; the VM needs ${formatBytes(req.reserveBytes)}`,
        { details: { dir: req.dir, needBytes: req.sizeBytes, memAvailableBytes: avail, reserveBytes: req.reserveBytes } },
      );
    }
  }
  return report;
}

// Human-readable numbers for ISO fetch messages and logs (URLs: redactUrl in agent/protocol).
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// Formats a byte count in KiB/MiB/GiB ("512 KiB", "700.0 MiB", "4.20 GiB") for error messages.
export function formatBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a >= GiB) return `${sign}${(a / GiB).toFixed(2)} GiB`;
  if (a >= MiB) return `${sign}${(a / MiB).toFixed(1)} MiB`;
  if (a >= KiB) return `${sign}${Math.round(a / KiB)} KiB`;
  return `${sign}${a} B`;
}
