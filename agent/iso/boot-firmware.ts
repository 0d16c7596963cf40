import { open } from 'node:fs/promises';
import { XepaError, isENOENT } from '../protocol/index.js';
import { type BootCatalog, type ReadAt, bootFirmwares, readBootCatalog } from './el-torito.js';
import { isoPaths } from './part-file.js';

const NAME = { bios: 'BIOS', uefi: 'UEFI' } as const;

// Reads the El Torito boot catalog of the ISO file at `path` (a few sectors, never the whole file).
export async function readIsoBootCatalog(path: string): Promise<BootCatalog> {
  const fh = await open(path, 'r');
  try {
    const read: ReadAt = async (offset, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    };
    return await readBootCatalog(read);
  } finally {
    await fh.close();
  }
}

/** "BIOS and UEFI", "BIOS only", "UEFI only" or "no boot entry": what the catalog offers, for events and errors. */
export function describeBootCatalog(cat: BootCatalog): string {
  const fw = bootFirmwares(cat);
  if (fw.length === 2) return 'BIOS and UEFI';
  if (fw.length === 1) return `${NAME[fw[0]!]} only`;
  return cat.problem ? `no boot entry: ${cat.problem}` : 'no bootable BIOS or UEFI entry';
}

// Refuses a firmware the ISO has no bootable El Torito entry for (the VM would sit in its firmware forever, as a
// BIOS-only ISO does under OVMF); returns what the catalog offers when the firmware can boot it.
export function checkBootFirmware(cat: BootCatalog, firmware: 'bios' | 'uefi'): string {
  const fw = bootFirmwares(cat);
  const what = describeBootCatalog(cat);
  if (fw.includes(firmware)) return what;
  const other = firmware === 'bios' ? 'uefi' : 'bios';
  const hint = fw.includes(other) ? `; use --firmware ${other}` : ': it cannot boot from a CD-ROM';
  throw new XepaError('ERR_ISO_FIRMWARE', `this ISO has no ${NAME[firmware]} boot entry (El Torito: ${what})${hint}`, {
    details: { firmware, bootable: fw, ...(cat.problem ? { problem: cat.problem } : {}) },
  });
}

// The plan's check when the request's ISO is already in `isoDir` (`<sha256>.iso`, from an earlier job): refuses a
// firmware it cannot boot before anything is fetched or claimed. The file is re-verified by the fetch step before it
// boots; here only its catalog is read. No cached copy: nothing to check yet (the fetch step checks after verifying).
export function cachedIsoFirmwareCheck(isoDir: string, readCatalog = readIsoBootCatalog) {
  return async (sha256: string, firmware: 'bios' | 'uefi'): Promise<string | undefined> => {
    let cat: BootCatalog;
    try {
      cat = await readCatalog(isoPaths(isoDir, sha256.toLowerCase()).final);
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
    return checkBootFirmware(cat, firmware);
  };
}
