import { describe, expect, it } from 'vitest';
import { probeFs, rootCandidates, type DiskPart, type FsKind } from '../../../agent/landing/index.js';

// A partition image of `size` bytes with `patch` applied (magic numbers at their on-disk offsets).
const image = (size: number, patch: (b: Buffer) => void): ((off: number, len: number) => Promise<Buffer>) => {
  const b = Buffer.alloc(size);
  patch(b);
  return async (off, len) => b.subarray(off, Math.min(size, off + len));
};
const MiB = 1024 * 1024;
const probe = (patch: (b: Buffer) => void, size = MiB): Promise<FsKind> => probeFs(image(size, patch), size);

describe('filesystem probe', () => {
  it('tells ext4 from ext3 and ext2 by the superblock feature flags', async () => {
    expect(await probe((b) => { b.writeUInt16LE(0xef53, 1024 + 0x38); b.writeUInt32LE(0x4, 1024 + 0x5c); b.writeUInt32LE(0x2c2, 1024 + 0x60); })).toBe('ext4');
    expect(await probe((b) => { b.writeUInt16LE(0xef53, 1024 + 0x38); b.writeUInt32LE(0x4, 1024 + 0x5c); b.writeUInt32LE(0x2, 1024 + 0x60); })).toBe('ext3');
    expect(await probe((b) => b.writeUInt16LE(0xef53, 1024 + 0x38))).toBe('ext2');
  });

  it('finds xfs, btrfs, vfat and swap by their magic', async () => {
    expect(await probe((b) => b.write('XFSB', 0, 'latin1'))).toBe('xfs');
    expect(await probe((b) => b.write('_BHRfS_M', 0x10040, 'latin1'))).toBe('btrfs');
    expect(await probe((b) => b.write('FAT32   ', 0x52, 'latin1'))).toBe('vfat');
    expect(await probe((b) => b.write('SWAPSPACE2', 4086, 'latin1'))).toBe('swap');
  });

  it('names LVM physical volumes, md members (1.2 at 4 KiB, 1.0 and 0.90 near the end) and NTFS', async () => {
    expect(await probe((b) => { b.write('LABELONE', 512, 'latin1'); b.write('LVM2 001', 512 + 24, 'latin1'); })).toBe('LVM2_member');
    expect(await probe((b) => b.writeUInt32LE(0xa92b4efc, 4096))).toBe('linux_raid_member');
    expect(await probe((b) => b.writeUInt32LE(0xa92b4efc, Math.floor((MiB - 8192) / 4096) * 4096))).toBe('linux_raid_member');
    expect(await probe((b) => b.writeUInt32LE(0xa92b4efc, MiB - 65536))).toBe('linux_raid_member');
    expect(await probe((b) => b.write('NTFS    ', 3, 'latin1'))).toBe('ntfs');
    expect(await probe(() => undefined)).toBe('unknown');
  });

  it('keeps Linux filesystems as root candidates and names what finish cannot open', () => {
    const part = (name: string, fs: FsKind): DiskPart => ({ disk: '/dev/sda', name, number: 1, offsetBytes: 0, sizeBytes: MiB, fs });
    const r = rootCandidates([part('/dev/sda1', 'vfat'), part('/dev/sda2', 'LVM2_member'), part('/dev/sda3', 'linux_raid_member'), part('/dev/sda4', 'xfs'), part('/dev/sda5', 'ntfs')]);
    expect(r.candidates.map((p) => p.name)).toEqual(['/dev/sda4']);
    expect(r.problems).toHaveLength(3);
    expect(r.problems[0]).toMatch(/\/dev\/sda2 is an LVM physical volume: finish does not open LVM/);
    expect(r.problems[1]).toMatch(/\/dev\/sda3 is an md RAID member/);
    expect(r.problems[2]).toMatch(/Windows/);
  });
});
