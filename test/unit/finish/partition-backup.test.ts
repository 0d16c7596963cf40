import { describe, expect, it } from 'vitest';
import type { ToolRunner } from '../../../agent/fidelity/index.js';
import { backupPartitionTable, restorePartitionTable, type DiskIo, type RestoreTarget } from '../../../agent/finish/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';

const MiB = 1024 * 1024;
// A disk in memory: DiskIo over one Buffer, and the same Buffer as a restore target.
const memDisk = (size: number): DiskIo & { bytes: Buffer; target: RestoreTarget } => {
  const bytes = Buffer.alloc(size);
  return {
    bytes,
    read: async (_p, offset, length) => Buffer.from(bytes.subarray(offset, offset + length)),
    target: { path: '/dev/x', sizeBytes: size, write: async (offset, data) => void data.copy(bytes, offset), close: async () => undefined },
  };
};
const sfdisk = (dump: string | undefined, calls: unknown[] = []): ToolRunner => async (cmd, args, opts) => {
  calls.push([cmd, ...args, opts?.input]);
  if (args[0] === '--dump') return dump ? { code: 0, stdout: dump, stderr: '' } : { code: 1, stdout: '', stderr: 'sfdisk: /dev/x: does not contain a recognized partition table' };
  return { code: 0, stdout: '', stderr: '' };
};

async function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return isXepaError(err) ? err.code : 'not a XepaError';
  }
  return undefined;
}

describe('partition-table backups', () => {
  it('keeps the sfdisk dump and the raw first and last MiB, and writes the raw ends back exactly', async () => {
    const disk = memDisk(8 * MiB);
    disk.bytes.write('MBR-and-GPT-header', 0);
    disk.bytes.write('backup-GPT', 8 * MiB - 512);
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 8 * MiB, serial: 'S1' }, { run: sfdisk('label: gpt\n'), io: disk });
    expect(b).toMatchObject({ disk: '/dev/x', serial: 'S1', sfdisk: 'label: gpt\n', head: { bytes: MiB }, tail: { bytes: MiB, offset: 7 * MiB } });
    const before = Buffer.from(disk.bytes);
    disk.bytes.fill(0xaa, 0, 4096); // the installer's new table
    disk.bytes.fill(0xbb, 8 * MiB - 4096);
    await restorePartitionTable(b, disk.target, 'raw', { run: sfdisk(undefined) });
    expect(disk.bytes.equals(before)).toBe(true);
  });

  it('replays the sfdisk dump through sfdisk, without wiping signatures', async () => {
    const calls: unknown[] = [];
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 2 * MiB }, { run: sfdisk('label: gpt\n'), io: memDisk(2 * MiB) });
    await restorePartitionTable(b, { ...memDisk(2 * MiB).target, path: '/dev/y' }, 'sfdisk', { run: sfdisk(undefined, calls) });
    expect(calls).toEqual([['sfdisk', '--no-reread', '--wipe', 'never', '/dev/y', 'label: gpt\n']]);
  });

  it('saves the raw ends of a disk without a partition table, and refuses an sfdisk restore of it', async () => {
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 2 * MiB }, { run: sfdisk(undefined), io: memDisk(2 * MiB) });
    expect(b.sfdisk).toBeUndefined();
    expect(await codeOf(() => restorePartitionTable(b, memDisk(2 * MiB).target, 'sfdisk', { run: sfdisk(undefined) }))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses to restore onto a disk of another size', async () => {
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 2 * MiB }, { run: sfdisk('x'), io: memDisk(2 * MiB) });
    expect(await codeOf(() => restorePartitionTable(b, memDisk(4 * MiB).target, 'raw', { run: sfdisk(undefined) }))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses a backup whose bytes do not match its checksum', async () => {
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 2 * MiB }, { run: sfdisk('x'), io: memDisk(2 * MiB) });
    expect(await codeOf(() => restorePartitionTable({ ...b, sha256: '0'.repeat(64) }, memDisk(2 * MiB).target, 'raw', { run: sfdisk(undefined) }))).toBe('ERR_BAD_REQUEST');
  });

  it('shrinks the raw ends to 64 KiB when a disk full of data would not fit in one message', async () => {
    const disk = memDisk(4 * MiB);
    for (let i = 0; i < disk.bytes.length; i += 4) disk.bytes.writeUInt32LE((i * 2654435761) >>> 0, i); // incompressible
    const b = await backupPartitionTable({ path: '/dev/x', sizeBytes: 4 * MiB }, { run: sfdisk('x'), io: disk });
    expect(b.head.bytes).toBe(64 * 1024);
    expect(b.tail.offset).toBe(4 * MiB - 64 * 1024);
  });

  it('says which disk could not be read', async () => {
    const broken: DiskIo = { read: async () => Promise.reject(new Error('EIO')) };
    expect(await codeOf(() => backupPartitionTable({ path: '/dev/x', sizeBytes: MiB }, { run: sfdisk('x'), io: broken }))).toBe('ERR_DEVICE_NOT_FOUND');
  });
});
