import { describe, expect, it } from 'vitest';
import { checkBudget, fsTypeOf, parseMemAvailable, type BudgetIo, type FsStats } from '../../../agent/iso/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';

const GiB = 1024 ** 3;
const EXT4 = 0xef53;
const TMPFS = 0x01021994;
const RAMFS = 0x858458f6;

const MOUNTS = [
  'rootfs / rootfs rw 0 0',
  '/dev/sda1 / ext4 rw,relatime 0 0',
  'tmpfs /run tmpfs rw,nosuid,nodev,size=1631524k,mode=755 0 0',
  'none /mnt/my\\040iso ramfs rw 0 0',
  'tmpfs /run/live/overlay tmpfs rw 0 0',
  'overlay /live overlay rw,lowerdir=/run/live/rootfs,upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work 0 0',
].join('\n');

const meminfo = (availKiB: number): string => `MemTotal:       16303476 kB\nMemFree:         1000000 kB\nMemAvailable:   ${availKiB} kB\n`;

function io(stats: Partial<FsStats>, availBytes: number, mounts = MOUNTS): Partial<BudgetIo> {
  return {
    statfs: async () => ({ type: EXT4, bsize: 4096, blocks: 1_000_000, bavail: 0, ...stats }),
    meminfo: async () => meminfo(availBytes / 1024),
    mounts: async () => mounts,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isXepaError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

describe('checkBudget', () => {
  it('accepts an ISO that fits on a disk filesystem without looking at RAM', async () => {
    const r = await checkBudget({ sizeBytes: 4 * GiB, dir: '/srv/iso', reserveBytes: 8 * GiB }, io({ bavail: (10 * GiB) / 4096 }, 0));
    expect(r.onRam).toBe(false);
    expect(r.fsType).toBe('ext4');
    expect(r.freeBytes).toBe(10 * GiB);
  });

  it('refuses with ERR_NO_SPACE when the filesystem has less free space than the ISO, giving sizes in GiB', async () => {
    const p = checkBudget({ sizeBytes: 4 * GiB, dir: '/srv/iso', reserveBytes: 0 }, io({ bavail: GiB / 4096 }, 64 * GiB));
    expect(await codeOf(p)).toBe('ERR_NO_SPACE');
    await expect(p).rejects.toThrow(/4\.00 GiB in \/srv\/iso \(ext4\) but only 1\.00 GiB is free/);
  });

  it('on tmpfs refuses with ERR_NO_MEMORY when the ISO would leave less RAM than the VM reserve', async () => {
    const p = checkBudget({ sizeBytes: 3 * GiB, dir: '/run/xepa', reserveBytes: 2 * GiB }, io({ type: TMPFS, bavail: (8 * GiB) / 4096 }, 4 * GiB));
    expect(await codeOf(p)).toBe('ERR_NO_MEMORY');
    await expect(p).rejects.toThrow(/leaving 1\.00 GiB of 4\.00 GiB available; the VM needs 2\.00 GiB/);
  });

  it('on tmpfs accepts when MemAvailable covers the ISO plus the reserve', async () => {
    const r = await checkBudget({ sizeBytes: 3 * GiB, dir: '/run/xepa', reserveBytes: 2 * GiB }, io({ type: TMPFS, bavail: (8 * GiB) / 4096 }, 6 * GiB));
    expect(r).toMatchObject({ onRam: true, fsType: 'tmpfs', memAvailableBytes: 6 * GiB });
  });

  it('detects RAM from /proc/mounts even when statfs reports a disk-like type', async () => {
    const p = checkBudget({ sizeBytes: 3 * GiB, dir: '/run/xepa', reserveBytes: GiB }, io({ bavail: (8 * GiB) / 4096 }, 3 * GiB));
    expect(await codeOf(p)).toBe('ERR_NO_MEMORY');
  });

  it('on ramfs skips the (meaningless) free-space check and checks RAM only', async () => {
    const ok = await checkBudget({ sizeBytes: GiB, dir: '/mnt/my iso', reserveBytes: GiB }, io({ type: RAMFS, blocks: 0 }, 4 * GiB));
    expect(ok.onRam).toBe(true);
    expect(ok.freeBytes).toBeUndefined();
    const p = checkBudget({ sizeBytes: 3 * GiB, dir: '/mnt/my iso', reserveBytes: 2 * GiB }, io({ type: RAMFS, blocks: 0 }, 4 * GiB));
    expect(await codeOf(p)).toBe('ERR_NO_MEMORY');
  });

  it('reports ERR_NO_SPACE before ERR_NO_MEMORY when a tmpfs is both too small and RAM is short', async () => {
    const p = checkBudget({ sizeBytes: 3 * GiB, dir: '/run/xepa', reserveBytes: 2 * GiB }, io({ type: TMPFS, bavail: GiB / 4096 }, GiB));
    expect(await codeOf(p)).toBe('ERR_NO_SPACE');
  });
});

describe('fsTypeOf', () => {
  it('picks the longest mount point and lets a later mount of the same point win', () => {
    expect(fsTypeOf('/', MOUNTS)).toBe('ext4');
    expect(fsTypeOf('/run/xepa', MOUNTS)).toBe('tmpfs');
    expect(fsTypeOf('/runner', MOUNTS)).toBe('ext4');
  });

  it('unescapes octal sequences in mount points', () => {
    expect(fsTypeOf('/mnt/my iso/x', MOUNTS)).toBe('ramfs');
  });

  it('reports the type of the upper directory of an overlay (live rescue systems)', () => {
    expect(fsTypeOf('/live/root', MOUNTS)).toBe('tmpfs');
  });
});

describe('parseMemAvailable', () => {
  it('returns bytes, or undefined on kernels without MemAvailable', () => {
    expect(parseMemAvailable(meminfo(2048))).toBe(2048 * 1024);
    expect(parseMemAvailable('MemTotal: 1 kB\n')).toBeUndefined();
  });
});
