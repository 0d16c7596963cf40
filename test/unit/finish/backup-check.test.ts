// A backup record is refused by its shape before any byte of it is decompressed, and decompression stops as
// soon as the output passes the declared length: a bomb costs the agent at most that length plus one chunk.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { backupDigest, checkBackupBounds, inflateCapped, restorePartitionTable, type Inflate, type RestoreTarget } from '../../../agent/finish/index.js';
import { PartitionBackup } from '../../../agent/protocol/index.js';
import { codeOf, codeOfAsync } from '../../support/error-code.js';

const MiB = 1024 * 1024;
const gz = (b: Buffer): string => gzipSync(b).toString('base64');
const record = (over: Partial<PartitionBackup> = {}): PartitionBackup => {
  const head = Buffer.alloc(4096, 1);
  const tail = Buffer.alloc(4096, 2);
  return {
    disk: '/dev/sda', serial: 'S', sizeBytes: 8 * MiB, takenAt: '2026-01-01T00:00:00.000Z',
    head: { bytes: head.length, gzBase64: gz(head) },
    tail: { bytes: tail.length, offset: 8 * MiB - 4096, gzBase64: gz(tail) },
    sha256: createHash('sha256').update(head).update(tail).digest('hex'),
    ...over,
  };
};
const nowhere: RestoreTarget = { path: '/dev/sda', sizeBytes: 8 * MiB, write: async () => expect.fail('nothing may be written'), close: async () => undefined };
const counting = (): { inflate: Inflate; calls: () => number } => {
  let n = 0;
  return { inflate: (g, b, w) => (n++, inflateCapped()(g, b, w)), calls: () => n };
};

describe('backup records: bounds before decompression', () => {
  it('accepts a record whose ranges lie inside the disk', () => {
    expect(codeOf(() => checkBackupBounds(record(), 8 * MiB))).toBeUndefined();
  });

  it('refuses a tail that reaches past the end of the disk', () => {
    expect(codeOf(() => checkBackupBounds(record({ tail: { ...record().tail, offset: 8 * MiB - 4095 } }), 8 * MiB))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => checkBackupBounds(record({ tail: { ...record().tail, offset: 2 ** 53 } }), 8 * MiB))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses ends declared longer than 1 MiB and compressed text over the limit', () => {
    expect(codeOf(() => checkBackupBounds(record({ head: { bytes: MiB + 1, gzBase64: '' } }), 8 * MiB))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => checkBackupBounds(record({ head: { bytes: 10, gzBase64: 'A'.repeat(1_200_001) } }), 8 * MiB))).toBe('ERR_BAD_REQUEST');
  });

  it('the wire schema refuses the same shapes at the edge', () => {
    expect(PartitionBackup.safeParse(record()).success).toBe(true);
    expect(PartitionBackup.safeParse(record({ head: { bytes: 64 * MiB, gzBase64: '' } })).success).toBe(false);
    expect(PartitionBackup.safeParse(record({ tail: { bytes: 1, offset: -1, gzBase64: '' } })).success).toBe(false);
    expect(PartitionBackup.safeParse(record({ sha256: 'x' })).success).toBe(false);
  });

  it('restore refuses an out-of-range record without decompressing or writing anything', async () => {
    const c = counting();
    const bad = record({ tail: { ...record().tail, offset: 8 * MiB } });
    expect(await codeOfAsync(restorePartitionTable(bad, nowhere, 'raw', { run: async () => expect.fail('no tool'), inflate: c.inflate }))).toBe('ERR_BAD_REQUEST');
    expect(c.calls()).toBe(0);
  });

  it('one digest names one record: any changed field changes it', () => {
    const r = record();
    expect(backupDigest({ ...r })).toBe(backupDigest(r));
    expect(backupDigest({ ...r, tail: { ...r.tail, offset: r.tail.offset - 512 } })).not.toBe(backupDigest(r));
    expect(backupDigest({ ...r, disk: '/dev/sdb' })).not.toBe(backupDigest(r));
  });
});

describe('capped inflate', () => {
  it('stops a bomb right after the declared length: output seen stays under declared + one chunk', async () => {
    const bomb = gzipSync(Buffer.alloc(32 * MiB), { level: 9 }).toString('base64'); // ~45 KB of text for 32 MiB
    let seen = 0;
    const err = inflateCapped((n) => (seen += n))(bomb, MiB, 'the head');
    expect(await codeOfAsync(err)).toBe('ERR_BAD_REQUEST');
    expect(seen).toBeGreaterThan(MiB);
    expect(seen).toBeLessThanOrEqual(MiB + 64 * 1024);
  });

  it('refuses data shorter than declared, and data that is not gzip', async () => {
    expect(await codeOfAsync(inflateCapped()(gz(Buffer.alloc(100)), 101, 'x'))).toBe('ERR_BAD_REQUEST');
    expect(await codeOfAsync(inflateCapped()(Buffer.from('not gzip').toString('base64'), 8, 'x'))).toBe('ERR_BAD_REQUEST');
  });

  it('returns exactly the declared bytes', async () => {
    const data = Buffer.from('MBR and GPT');
    expect((await inflateCapped()(gz(data), data.length, 'x')).equals(data)).toBe(true);
  });

  it('restore with a bomb in a record: refused, the disk untouched', async () => {
    const big = Buffer.alloc(32 * MiB);
    const tail = Buffer.alloc(4096, 2);
    const bomb = record({ head: { bytes: MiB, gzBase64: gzipSync(big, { level: 9 }).toString('base64') }, sha256: createHash('sha256').update(big).update(tail).digest('hex') });
    let seen = 0;
    const r = restorePartitionTable(bomb, nowhere, 'raw', { run: async () => expect.fail('no tool'), inflate: inflateCapped((n) => (seen += n)) });
    expect(await codeOfAsync(r)).toBe('ERR_BAD_REQUEST');
    expect(seen).toBeLessThanOrEqual(MiB + 64 * 1024);
  });
});
