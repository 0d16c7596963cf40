// A pure reader of an ISO's El Torito boot catalog ("El Torito" Bootable CD-ROM Format Specification 1.0,
// Phoenix/IBM 1995): the Boot Record Volume Descriptor at sector 17 points at the catalog, whose validation entry
// is followed by the initial/default entry and then section headers with their entries. Reads through an
// injected read(offset, length), so tests hand it catalogs built in memory and the agent a file.

const SECTOR = 2048;
const ENTRY = 32;
// A catalog longer than this is not one any mastering tool writes (xorriso allows 32 boot images).
const MAX_CATALOG_SECTORS = 8;

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** The firmware a boot entry is for: platform 0x00 (80x86, BIOS), 0xEF (EFI), anything else. */
export type BootPlatform = 'bios' | 'uefi' | 'other';

/** One boot entry of the catalog (the initial entry or a section entry). */
export interface BootEntry {
  platform: BootPlatform;
  platformId: number;
  bootable: boolean; // boot indicator 0x88; 0x00 = not bootable
  media: 'no-emulation' | 'floppy-1.2M' | 'floppy-1.44M' | 'floppy-2.88M' | 'hard-disk' | 'unknown';
  loadRba: number; // first sector of the boot image
  sectorCount: number; // 512-byte virtual sectors loaded by BIOS (0 or 1 often means "the whole image" for EFI)
}

/** What the ISO holds: the entries, or why there are none (no ISO 9660, no boot record, a broken catalog). */
export interface BootCatalog {
  entries: BootEntry[];
  catalogSector?: number;
  problem?: string;
}

const platformOf = (id: number): BootPlatform => (id === 0x00 ? 'bios' : id === 0xef ? 'uefi' : 'other');
const MEDIA = ['no-emulation', 'floppy-1.2M', 'floppy-1.44M', 'floppy-2.88M', 'hard-disk'] as const;
const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));

function entryAt(b: Uint8Array, o: number, platformId: number): BootEntry {
  return {
    platform: platformOf(platformId),
    platformId,
    bootable: b[o] === 0x88,
    media: MEDIA[b[o + 1]! & 0x0f] ?? 'unknown',
    sectorCount: u16(b, o + 6),
    loadRba: u32(b, o + 8),
  };
}

// Reads the boot catalog of the ISO behind `read`; never throws on malformed media (the answer says why).
export async function readBootCatalog(read: ReadAt): Promise<BootCatalog> {
  const pvd = await read(16 * SECTOR, 7);
  if (pvd.length < 7 || ascii(pvd, 1, 6) !== 'CD001') return { entries: [], problem: 'not an ISO 9660 image (no CD001 volume descriptor at sector 16)' };
  const brvd = await read(17 * SECTOR, SECTOR);
  // Boot Record Volume Descriptor: type 0, "CD001", version 1, boot system id, catalog sector at byte 71.
  if (brvd.length < 75 || brvd[0] !== 0 || ascii(brvd, 1, 6) !== 'CD001' || !ascii(brvd, 7, 39).startsWith('EL TORITO SPECIFICATION')) {
    return { entries: [], problem: 'no El Torito boot record (sector 17)' };
  }
  const catalogSector = u32(brvd, 71);
  let cat = await read(catalogSector * SECTOR, SECTOR);
  if (cat.length < 2 * ENTRY) return { entries: [], catalogSector, problem: `the boot catalog at sector ${catalogSector} is beyond the end of the image` };
  // Validation entry: header 0x01, key bytes 0x55 0xAA, and the 16-bit words of the entry sum to zero.
  let sum = 0;
  for (let i = 0; i < ENTRY; i += 2) sum = (sum + u16(cat, i)) & 0xffff;
  if (cat[0] !== 0x01 || cat[30] !== 0x55 || cat[31] !== 0xaa || sum !== 0) {
    return { entries: [], catalogSector, problem: `the boot catalog at sector ${catalogSector} has no valid validation entry` };
  }
  const entries: BootEntry[] = [entryAt(cat, ENTRY, cat[1]!)];
  let off = 2 * ENTRY;
  const more = async (): Promise<boolean> => {
    if (off + ENTRY <= cat.length) return true;
    if (cat.length >= MAX_CATALOG_SECTORS * SECTOR || cat.length % SECTOR !== 0) return false;
    const next = await read(catalogSector * SECTOR + cat.length, SECTOR);
    if (next.length === 0) return false;
    const joined = new Uint8Array(cat.length + next.length);
    joined.set(cat);
    joined.set(next, cat.length);
    cat = joined;
    return off + ENTRY <= cat.length;
  };
  // Section headers: 0x90 (more follow) or 0x91 (the last), platform id, count of section entries; each entry
  // may be followed by extension entries (0x44) while bit 5 of its media byte (or of the extension's byte 1) is set.
  while (await more()) {
    const header = cat[off]!;
    if (header !== 0x90 && header !== 0x91) break; // zero fill (or unknown) ends the catalog
    const platformId = cat[off + 1]!;
    let count = u16(cat, off + 2);
    off += ENTRY;
    while (count > 0 && (await more())) {
      const e = entryAt(cat, off, platformId);
      let extension = (cat[off + 1]! & 0x20) !== 0;
      off += ENTRY;
      count -= 1;
      entries.push(e);
      while (extension && (await more()) && cat[off] === 0x44) {
        extension = (cat[off + 1]! & 0x20) !== 0;
        off += ENTRY;
      }
    }
    if (header === 0x91) break;
  }
  return { entries, catalogSector };
}

/** The firmwares that have at least one bootable entry in the catalog. */
export function bootFirmwares(cat: BootCatalog): ('bios' | 'uefi')[] {
  const has = (p: BootPlatform): boolean => cat.entries.some((e) => e.bootable && e.platform === p);
  return [...(has('bios') ? ['bios' as const] : []), ...(has('uefi') ? ['uefi' as const] : [])];
}
