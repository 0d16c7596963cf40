import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { hasErrno, isENOENT } from '../protocol/errors.js';

// errnos with which the kernel refuses to read an existing attribute in the device's current state
// (e.g. `carrier` and `speed` of a NIC that is administratively down return EINVAL).
const STATE_ERRNOS = ['EINVAL', 'ENODEV', 'ENXIO', 'EOPNOTSUPP', 'EIO', 'EAGAIN'];

// Read access to a pseudo filesystem mounted at `root` (sysfs, procfs, devtmpfs); every path is relative to it.
export class RootedFs {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  // The absolute path of `rel` under the root (`rel` may carry a leading slash: it is still under the root).
  abs(rel: string): string {
    return path.join(this.root, rel);
  }

  // A file's text, trimmed; undefined when it does not exist.
  async readText(rel: string): Promise<string | undefined> {
    try {
      return (await fs.readFile(this.abs(rel), 'utf8')).trim();
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
  }

  // Like readText, but also undefined when the kernel refuses the read in the device's current state.
  async readAttr(rel: string): Promise<string | undefined> {
    try {
      return await this.readText(rel);
    } catch (err) {
      if (STATE_ERRNOS.some((code) => hasErrno(err, code))) return undefined;
      throw err;
    }
  }

  // A file's raw bytes (binary attributes such as vpd_pg80 or efivars); undefined when it does not exist.
  async readBytes(rel: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.abs(rel));
    } catch (err) {
      if (isENOENT(err) || STATE_ERRNOS.some((code) => hasErrno(err, code))) return undefined;
      throw err;
    }
  }

  // A symlink's target as stored (often relative: `../../../bus/pci/drivers/nvme`); undefined when absent.
  async readLink(rel: string): Promise<string | undefined> {
    try {
      return await fs.readlink(this.abs(rel));
    } catch (err) {
      if (isENOENT(err) || hasErrno(err, 'EINVAL')) return undefined; // EINVAL: not a symlink
      throw err;
    }
  }

  // The last component of a symlink's target (`driver` -> `nvme`, `iommu_group` -> `14`); undefined when absent.
  async readLinkName(rel: string): Promise<string | undefined> {
    const target = await this.readLink(rel);
    return target === undefined ? undefined : path.basename(target);
  }

  // The canonical path of `rel` relative to the root (`devices/pci0000:00/0000:00:04.0/...`), or absolute when
  // it leads outside the root; undefined when it does not exist.
  async realpath(rel: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await fs.realpath(this.abs(rel));
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
    const inside = path.relative(this.root, real);
    return inside.startsWith('..') || path.isAbsolute(inside) ? real : inside;
  }

  // Entry names of a directory, sorted; [] when it does not exist.
  async list(rel: string): Promise<string[]> {
    try {
      return (await fs.readdir(this.abs(rel))).sort();
    } catch (err) {
      if (isENOENT(err) || hasErrno(err, 'ENOTDIR')) return [];
      throw err;
    }
  }

  // Does the path exist (following symlinks)?
  async exists(rel: string): Promise<boolean> {
    try {
      await fs.access(this.abs(rel), fsConstants.F_OK);
      return true;
    } catch (err) {
      if (isENOENT(err) || hasErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  // Writes `value` to an existing attribute in one write(2) and never creates files (O_WRONLY, no O_CREAT),
  // as sysfs expects. errno errors (EBUSY, ENODEV, ENOENT ...) propagate unchanged for the caller to name.
  async write(rel: string, value: string): Promise<void> {
    await fs.writeFile(this.abs(rel), value, { flag: fsConstants.O_WRONLY });
  }
}
