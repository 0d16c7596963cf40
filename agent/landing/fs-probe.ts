// What a partition holds, from its superblock magic: the filesystems finish can open, and the ones it must
// name (LVM, md, other systems' filesystems). Pure given a reader of bytes at an offset (readBytesAt for files).

import { open } from 'node:fs/promises';

// A reader of `length` bytes at `offset` of a partition (short at its end).
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

/** Reads `length` bytes at `offset` of a file or block device (fewer at its end; none for length <= 0). */
export async function readBytesAt(path: string, offset: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

// The kinds finish tells apart.
export type FsKind = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs' | 'vfat' | 'ntfs' | 'swap' | 'LVM2_member' | 'linux_raid_member' | 'zfs_member' | 'iso9660' | 'unknown';

// The Linux filesystems an installed root may be on, as the kernel names them (/proc/filesystems).
export const ROOT_FS: Partial<Record<FsKind, string>> = { ext2: 'ext4', ext3: 'ext4', ext4: 'ext4', xfs: 'xfs', btrfs: 'btrfs' };

/** Identifies a partition by the magic numbers of the formats that matter to finish (blkid's offsets). */
export async function probeFs(read: ReadAt, sizeBytes: number): Promise<FsKind> {
  const head = await read(0, 68 * 1024);
  const at = (off: number, s: string): boolean => head.length >= off + s.length && head.subarray(off, off + s.length).toString('latin1') === s;
  if (at(0, 'XFSB')) return 'xfs';
  if (at(0x10040, '_BHRfS_M')) return 'btrfs';
  if (head.length >= 1024 + 0x68 && head.readUInt16LE(1024 + 0x38) === 0xef53) {
    const compat = head.readUInt32LE(1024 + 0x5c);
    const incompat = head.readUInt32LE(1024 + 0x60);
    if (incompat & 0x40 || incompat & 0x200 || incompat & 0x80) return 'ext4'; // extents, flex_bg, 64bit
    return compat & 0x4 ? 'ext3' : 'ext2';
  }
  if (at(512, 'LABELONE') && at(512 + 24, 'LVM2 001')) return 'LVM2_member';
  if (head.length >= 4096 + 4 && head.readUInt32LE(4096) === 0xa92b4efc) return 'linux_raid_member'; // md 1.2
  if (head.length >= 4 && head.readUInt32LE(0) === 0xa92b4efc) return 'linux_raid_member'; // md 1.1
  if (at(3, 'NTFS    ')) return 'ntfs';
  if (at(0x36, 'FAT') || at(0x52, 'FAT32   ')) return 'vfat';
  if (at(4096 - 10, 'SWAPSPACE2') || at(4096 - 10, 'SWAP-SPACE')) return 'swap';
  if (at(0x8001, 'CD001')) return 'iso9660';
  // md 0.90 and 1.0 keep their superblock near the end
  if (sizeBytes >= 128 * 1024) {
    const end0 = Math.floor(sizeBytes / 65536) * 65536 - 65536;
    const tail90 = await read(end0, 4);
    if (tail90.length === 4 && tail90.readUInt32LE(0) === 0xa92b4efc) return 'linux_raid_member';
    const end10 = Math.floor((sizeBytes - 8192) / 4096) * 4096;
    const tail10 = await read(end10, 4);
    if (tail10.length === 4 && tail10.readUInt32LE(0) === 0xa92b4efc) return 'linux_raid_member';
  }
  // ZFS labels: an uberblock array with its magic 0x00bab10c in the first label (256 KiB in, 128 KiB long)
  if (sizeBytes >= 512 * 1024) {
    const ub = await read(128 * 1024, 8);
    if (ub.length === 8 && (ub.readBigUInt64LE(0) === 0x00bab10cn || ub.readBigUInt64BE(0) === 0x00bab10cn)) return 'zfs_member';
  }
  return 'unknown';
}
