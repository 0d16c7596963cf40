import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { PartitionBackup } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import { checkTool, type ToolRunner } from '../fidelity/index.js';
import { RAW_END_BYTES, checkBackupBounds, inflateCapped, type Inflate } from './backup-check.js';
import type { RestoreTarget } from './restore-target.js';
import { readBytesAt } from '../landing/index.js';

// A backup travels in one control message (at most 1 MiB): beyond this the raw ends shrink to the GPT areas.
const MAX_WIRE_BYTES = 900 * 1024;
const SMALL_END_BYTES = 64 * 1024;

// Reads byte ranges of a disk (real files and block devices by default). Restores write through a RestoreTarget only.
export interface DiskIo {
  read(path: string, offset: number, length: number): Promise<Buffer>;
}

// The real DiskIo: positional reads.
export const fileDiskIo: DiskIo = {
  read: readBytesAt,
};

/**
 * Saves a disk's partition table before the installer may overwrite it: `sfdisk --dump` (absent when the
 * disk has none) and the raw first and last bytes. Throws ERR_DEVICE_NOT_FOUND when the disk cannot be read.
 */
export async function backupPartitionTable(
  disk: { path: string; sizeBytes: number; serial?: string | undefined; wwn?: string | undefined },
  deps: { run: ToolRunner; io?: DiskIo; now?: () => Date },
): Promise<PartitionBackup> {
  const io = deps.io ?? fileDiskIo;
  const dump = await deps.run('sfdisk', ['--dump', disk.path]);
  const sfdisk = dump.code === 0 && dump.stdout.trim() ? dump.stdout : undefined;
  let ends = Math.min(RAW_END_BYTES, disk.sizeBytes);
  for (;;) {
    let head: Buffer;
    let tail: Buffer;
    try {
      head = await io.read(disk.path, 0, ends);
      tail = await io.read(disk.path, disk.sizeBytes - ends, ends);
    } catch (err) {
      throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot read ${disk.path} to save its partition table: ${(err as Error).message}`, { cause: err });
    }
    const headGz = gzipSync(head).toString('base64');
    const tailGz = gzipSync(tail).toString('base64');
    if (headGz.length + tailGz.length + (sfdisk?.length ?? 0) > MAX_WIRE_BYTES && ends > SMALL_END_BYTES) {
      ends = Math.min(SMALL_END_BYTES, disk.sizeBytes);
      continue;
    }
    return {
      disk: disk.path,
      ...(disk.serial ? { serial: disk.serial } : {}),
      ...(disk.wwn ? { wwn: disk.wwn } : {}),
      sizeBytes: disk.sizeBytes,
      takenAt: (deps.now?.() ?? new Date()).toISOString(),
      ...(sfdisk ? { sfdisk } : {}),
      head: { bytes: head.length, gzBase64: headGz },
      tail: { bytes: tail.length, offset: disk.sizeBytes - ends, gzBase64: tailGz },
      sha256: createHash('sha256').update(head).update(tail).digest('hex'),
    };
  }
}

/**
 * Writes a saved partition table back onto `target` (opened exclusively, with its real size): 'sfdisk' replays
 * the dump through sfdisk (which writes both GPT copies and the protective MBR); 'raw' writes the saved first
 * and last bytes exactly as they were. Refuses (ERR_BAD_REQUEST) a disk of another size, a record whose ranges
 * or lengths are out of bounds (before decompressing anything), compressed ends that inflate past their
 * declared length (the inflate stops there) and bytes that do not match the checksum.
 */
export async function restorePartitionTable(b: PartitionBackup, target: RestoreTarget, mode: 'sfdisk' | 'raw', deps: { run: ToolRunner; inflate?: Inflate }): Promise<string> {
  const path = target.path;
  if (target.sizeBytes !== b.sizeBytes) throw new XepaError('ERR_BAD_REQUEST', `${path} has ${target.sizeBytes} bytes, the backup was taken of ${b.sizeBytes}: not the same disk`);
  checkBackupBounds(b, target.sizeBytes);
  if (mode === 'sfdisk' && !b.sfdisk) throw new XepaError('ERR_BAD_REQUEST', `${b.disk} had no partition table when it was saved: restore it with mode raw`);
  const inflate = deps.inflate ?? inflateCapped();
  const head = await inflate(b.head.gzBase64, b.head.bytes, `the first bytes saved of ${b.disk}`);
  const tail = await inflate(b.tail.gzBase64, b.tail.bytes, `the last bytes saved of ${b.disk}`);
  if (createHash('sha256').update(head).update(tail).digest('hex') !== b.sha256) throw new XepaError('ERR_BAD_REQUEST', `the backup of ${b.disk} does not match its checksum`);
  if (mode === 'sfdisk') {
    checkTool(await deps.run('sfdisk', ['--no-reread', '--wipe', 'never', path], { input: b.sfdisk }), `sfdisk restoring ${path}`);
    return `partition table of ${path} restored from the sfdisk dump of ${b.takenAt}`;
  }
  await target.write(0, head);
  await target.write(b.tail.offset, tail);
  return `first and last ${head.length} bytes of ${path} restored as saved at ${b.takenAt}`;
}
