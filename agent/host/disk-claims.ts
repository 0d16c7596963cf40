import { constants, promises as fs } from 'node:fs';
import { XepaError, hasErrno } from '../protocol/index.js';

// Opens each raw disk with O_EXCL for the life of the VM: the kernel then refuses mounts and other exclusive
// users (EBUSY), so nothing else can take the disk while the installer writes it. QEMU opens without O_EXCL.
export async function claimDisksExclusive(paths: string[], open = fs.open): Promise<{ release(): Promise<void> }> {
  const held: fs.FileHandle[] = [];
  const releaseAll = async (): Promise<void> => {
    for (const fh of held.splice(0)) {
      await fh.sync().catch(() => undefined); // flush the device's write cache before letting go
      await fh.close();
    }
  };
  try {
    for (const p of paths) {
      try {
        held.push(await open(p, constants.O_RDONLY | constants.O_EXCL));
      } catch (err) {
        if (hasErrno(err, 'EBUSY')) throw new XepaError('ERR_DEVICE_BUSY', `${p} is in use (mounted or held exclusively by another program)`, { cause: err });
        throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot open ${p}: ${(err as Error).message}`, { cause: err });
      }
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return { release: releaseAll };
}
