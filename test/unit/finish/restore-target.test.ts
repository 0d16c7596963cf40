// The restore's own open of a disk: exclusive, sized from the device itself (sysfs for block devices, fstat for
// images), every write bounded to that size.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRestoreTarget } from '../../../agent/finish/index.js';
import { Sysfs } from '../../../agent/host/index.js';
import { codeOfAsync } from '../../support/error-code.js';

const work = mkdtempSync(join(tmpdir(), 'xepa-restore-target-'));
const image = (name: string, size: number): string => {
  const p = join(work, name);
  writeFileSync(p, Buffer.alloc(size));
  return p;
};
const errno = (code: string): Error => Object.assign(new Error(code), { code });

describe('openRestoreTarget', () => {
  it('opens read-write and exclusive, and takes a disk image size from the file', async () => {
    const flags: number[] = [];
    const open = ((p: string, f: number) => (flags.push(f), fs.open(p, f))) as typeof fs.open;
    const t = await openRestoreTarget({ open })(image('a.img', 65536));
    expect(t.sizeBytes).toBe(65536);
    expect(flags).toEqual([constants.O_RDWR | constants.O_EXCL]);
    await t.close();
  });

  it('writes inside the disk and refuses any range that reaches past its end', async () => {
    const p = image('b.img', 65536);
    const t = await openRestoreTarget()(p);
    await t.write(65536 - 4, Buffer.from('GPT!'));
    expect(await codeOfAsync(t.write(65536 - 3, Buffer.from('GPT!')))).toBe('ERR_BAD_REQUEST');
    expect(await codeOfAsync(t.write(-1, Buffer.from('x')))).toBe('ERR_BAD_REQUEST');
    await t.close();
    const bytes = readFileSync(p);
    expect(bytes.length).toBe(65536);
    expect(bytes.subarray(-4).toString()).toBe('GPT!');
  });

  it('answers ERR_DEVICE_BUSY when the kernel refuses the exclusive open (a job claim or a mount holds it)', async () => {
    const open = (async () => Promise.reject(errno('EBUSY'))) as unknown as typeof fs.open;
    expect(await codeOfAsync(openRestoreTarget({ open })('/dev/sda'))).toBe('ERR_DEVICE_BUSY');
  });

  it('answers ERR_DEVICE_NOT_FOUND for a disk that is gone', async () => {
    expect(await codeOfAsync(openRestoreTarget()(join(work, 'missing')))).toBe('ERR_DEVICE_NOT_FOUND');
  });

  it("reads a block device's size from sysfs by its major:minor, and closes it when that fails", async () => {
    const sys = join(work, 'sys');
    mkdirSync(join(sys, 'dev/block/259:3'), { recursive: true });
    writeFileSync(join(sys, 'dev/block/259:3/size'), '2048\n');
    let closed = 0;
    const fakeBlock = (rdev: number) =>
      (async () => ({
        stat: async () => ({ isFile: () => false, isBlockDevice: () => true, rdev, size: 0 }),
        close: async () => void closed++,
      })) as unknown as typeof fs.open;
    const t = await openRestoreTarget({ sysfs: new Sysfs(sys), open: fakeBlock((259 << 8) | 3) })('/dev/nvme0n1');
    expect(t.sizeBytes).toBe(2048 * 512);
    await t.close();
    // A minor above 255 (loop256 is 7:256) is split across the dev_t; no sysfs entry -> refused, handle closed.
    const missing = openRestoreTarget({ sysfs: new Sysfs(sys), open: fakeBlock((7 << 8) | (256 & 0xff) | ((256 & ~0xff) << 12)) })('/dev/loop256');
    expect(await codeOfAsync(missing)).toBe('ERR_DEVICE_NOT_FOUND');
    expect(closed).toBe(2);
  });
});
