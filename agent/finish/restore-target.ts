import { constants, promises as fs } from 'node:fs';
import { Sysfs } from '../host/index.js';
import { XepaError, hasErrno } from '../protocol/index.js';

/**
 * A disk opened for a partition-table restore. The open is exclusive (O_EXCL): the kernel refuses it while a
 * job's claim, a mount or any other exclusive holder has the disk, and refuses them while the restore runs.
 * `sizeBytes` is the device's own size, read at open; `write` refuses any range that does not lie inside it.
 */
export interface RestoreTarget {
  readonly path: string;
  readonly sizeBytes: number;
  write(offset: number, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

// Opens a disk for a restore (exclusively, with its real size).
export type OpenRestoreTarget = (path: string) => Promise<RestoreTarget>;

// Linux dev_t: major in bits 8..19 and 32..43, minor in bits 0..7 and 20..31 (glibc's gnu_dev_major/minor).
const majorOf = (dev: number): number => ((dev >>> 8) & 0xfff) | ((Math.floor(dev / 2 ** 32) & 0xfffff000) >>> 0);
const minorOf = (dev: number): number => (dev & 0xff) | ((dev >>> 12) & 0xfffff00);

/**
 * The real OpenRestoreTarget: O_RDWR|O_EXCL; a block device's size from sysfs (`dev/block/MAJ:MIN/size`,
 * 512-byte sectors), a regular file's from fstat. EBUSY -> ERR_DEVICE_BUSY; anything else -> ERR_DEVICE_NOT_FOUND.
 */
export function openRestoreTarget(deps: { sysfs?: Sysfs; open?: typeof fs.open } = {}): OpenRestoreTarget {
  const sysfs = deps.sysfs ?? new Sysfs();
  const openFile = deps.open ?? fs.open;
  return async (path) => {
    let fh: fs.FileHandle;
    try {
      fh = await openFile(path, constants.O_RDWR | constants.O_EXCL);
    } catch (err) {
      if (hasErrno(err, 'EBUSY')) throw new XepaError('ERR_DEVICE_BUSY', `${path} is held by another user (a job's VM, a mount or another exclusive opener): not rewriting its partition table`, { cause: err });
      throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot open ${path} to restore its partition table: ${(err as Error).message}`, { cause: err });
    }
    try {
      const sizeBytes = await sizeOf(fh, path, sysfs);
      return handleFor(fh, path, sizeBytes);
    } catch (err) {
      await fh.close();
      throw err;
    }
  };
}

async function sizeOf(fh: fs.FileHandle, path: string, sysfs: Sysfs): Promise<number> {
  const st = await fh.stat();
  if (st.isFile()) return st.size;
  if (!st.isBlockDevice()) throw new XepaError('ERR_DEVICE_NOT_FOUND', `${path} is neither a block device nor a disk image`);
  const rel = `dev/block/${majorOf(st.rdev)}:${minorOf(st.rdev)}/size`;
  const sectors = Number(await sysfs.readText(rel));
  if (!Number.isSafeInteger(sectors) || sectors <= 0) throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot read the size of ${path} (${sysfs.abs(rel)})`);
  return sectors * 512;
}

function handleFor(fh: fs.FileHandle, path: string, sizeBytes: number): RestoreTarget {
  return {
    path,
    sizeBytes,
    async write(offset, data) {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > sizeBytes) {
        throw new XepaError('ERR_BAD_REQUEST', `refusing to write bytes ${offset}..${offset + data.length} of ${path}: the disk has ${sizeBytes}`);
      }
      for (let done = 0; done < data.length; ) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
      await fh.sync();
    },
    close: () => fh.close(),
  };
}
