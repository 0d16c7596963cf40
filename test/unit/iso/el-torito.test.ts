import { describe, expect, it } from 'vitest';
import { bootFirmwares, checkBootFirmware, describeBootCatalog, readBootCatalog, type ReadAt } from '../../../agent/iso/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';

const SECTOR = 2048;

interface Section {
  platformId: number;
  entries: { bootable?: boolean; rba: number; extensions?: number }[];
}

// Builds an ISO image in memory: a primary volume descriptor at sector 16, the El Torito boot record at 17 naming
// the catalog sector, and the catalog (validation entry, initial entry, sections), as the specification lays it out.
function image(o: { platformId?: number; initial?: { bootable?: boolean; rba: number }; sections?: Section[]; catalogSector?: number; breakChecksum?: boolean; noBootRecord?: boolean; size?: number } = {}): Uint8Array {
  const catalogSector = o.catalogSector ?? 20;
  const img = new Uint8Array(o.size ?? (catalogSector + 4) * SECTOR);
  const put = (at: number, s: string): void => { for (let i = 0; i < s.length; i++) img[at + i] = s.charCodeAt(i); };
  img[16 * SECTOR] = 1;
  put(16 * SECTOR + 1, 'CD001');
  if (!o.noBootRecord) {
    const b = 17 * SECTOR;
    img[b] = 0;
    put(b + 1, 'CD001');
    img[b + 6] = 1;
    put(b + 7, 'EL TORITO SPECIFICATION');
    new DataView(img.buffer).setUint32(b + 71, catalogSector, true);
  }
  const c = catalogSector * SECTOR;
  if (c + 64 > img.length) return img;
  const view = new DataView(img.buffer);
  img[c] = 0x01;
  img[c + 1] = o.platformId ?? 0;
  put(c + 4, 'XEPA TEST');
  img[c + 30] = 0x55;
  img[c + 31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + view.getUint16(c + i, true)) & 0xffff;
  view.setUint16(c + 28, (0x10000 - sum) & 0xffff, true);
  if (o.breakChecksum) img[c + 28] = img[c + 28]! ^ 1;
  const entry = (at: number, e: { bootable?: boolean; rba: number }, extension = false): void => {
    img[at] = e.bootable === false ? 0x00 : 0x88;
    img[at + 1] = extension ? 0x20 : 0x00;
    view.setUint16(at + 6, 4, true);
    view.setUint32(at + 8, e.rba, true);
  };
  entry(c + 32, o.initial ?? { rba: 30 });
  let at = c + 64;
  (o.sections ?? []).forEach((s, i, all) => {
    img[at] = i === all.length - 1 ? 0x91 : 0x90;
    img[at + 1] = s.platformId;
    view.setUint16(at + 2, s.entries.length, true);
    at += 32;
    for (const e of s.entries) {
      entry(at, e, (e.extensions ?? 0) > 0);
      at += 32;
      for (let x = 0; x < (e.extensions ?? 0); x++) {
        img[at] = 0x44;
        img[at + 1] = x < (e.extensions ?? 0) - 1 ? 0x20 : 0;
        at += 32;
      }
    }
  });
  return img;
}

// read(offset, length) over the in-memory image, counting the bytes asked for.
function reader(img: Uint8Array): ReadAt & { asked: number } {
  const f = (async (offset: number, length: number) => {
    f.asked += length;
    return img.subarray(Math.min(offset, img.length), Math.min(offset + length, img.length));
  }) as ReadAt & { asked: number };
  f.asked = 0;
  return f;
}

describe('El Torito boot catalog', () => {
  it('reads a BIOS-only catalog: the initial entry takes the validation entry\'s platform', async () => {
    const cat = await readBootCatalog(reader(image({ initial: { rba: 31 } })));
    expect(cat.catalogSector).toBe(20);
    expect(cat.entries).toEqual([{ platform: 'bios', platformId: 0, bootable: true, media: 'no-emulation', loadRba: 31, sectorCount: 4 }]);
    expect(bootFirmwares(cat)).toEqual(['bios']);
    expect(describeBootCatalog(cat)).toBe('BIOS only');
  });

  it('reads a hybrid catalog (BIOS initial entry, final 0xEF section), as grub-mkrescue and xorriso write it', async () => {
    const cat = await readBootCatalog(reader(image({ sections: [{ platformId: 0xef, entries: [{ rba: 40 }] }] })));
    expect(cat.entries.map((e) => [e.platform, e.loadRba])).toEqual([['bios', 30], ['uefi', 40]]);
    expect(describeBootCatalog(cat)).toBe('BIOS and UEFI');
  });

  it('reads a UEFI-only catalog (validation entry of platform 0xEF)', async () => {
    const cat = await readBootCatalog(reader(image({ platformId: 0xef })));
    expect(bootFirmwares(cat)).toEqual(['uefi']);
  });

  it('walks several sections, skipping extension entries, and stops at the final header', async () => {
    const cat = await readBootCatalog(reader(image({
      sections: [
        { platformId: 0x01, entries: [{ rba: 50, extensions: 2 }, { rba: 51 }] }, // PowerPC: neither firmware
        { platformId: 0xef, entries: [{ rba: 52, extensions: 1 }] },
      ],
    })));
    expect(cat.entries.map((e) => [e.platform, e.platformId, e.loadRba])).toEqual([['bios', 0, 30], ['other', 1, 50], ['other', 1, 51], ['uefi', 0xef, 52]]);
  });

  it('does not count a non-bootable entry as a way to boot', async () => {
    const cat = await readBootCatalog(reader(image({ sections: [{ platformId: 0xef, entries: [{ rba: 40, bootable: false }] }] })));
    expect(cat.entries).toHaveLength(2);
    expect(bootFirmwares(cat)).toEqual(['bios']);
  });

  it('reads a catalog that continues into its next sector', async () => {
    const many = Array.from({ length: 70 }, (_, i) => ({ rba: 100 + i }));
    const cat = await readBootCatalog(reader(image({ sections: [{ platformId: 0x02, entries: many }, { platformId: 0xef, entries: [{ rba: 999 }] }] })));
    expect(cat.entries).toHaveLength(72);
    expect(cat.entries.at(-1)).toMatchObject({ platform: 'uefi', loadRba: 999 });
  });

  it('reads only a few sectors, never the image', async () => {
    const r = reader(image({ size: 64 * SECTOR, sections: [{ platformId: 0xef, entries: [{ rba: 40 }] }] }));
    await readBootCatalog(r);
    expect(r.asked).toBeLessThanOrEqual(3 * SECTOR);
  });

  it('says why there is no entry: not ISO 9660, no boot record, a broken validation entry, a catalog past the end', async () => {
    expect((await readBootCatalog(reader(new Uint8Array(40 * SECTOR)))).problem).toMatch(/not an ISO 9660 image/);
    expect((await readBootCatalog(reader(new Uint8Array(100)))).problem).toMatch(/not an ISO 9660 image/);
    expect((await readBootCatalog(reader(image({ noBootRecord: true })))).problem).toMatch(/no El Torito boot record/);
    const broken = await readBootCatalog(reader(image({ breakChecksum: true })));
    expect([broken.entries, broken.problem]).toEqual([[], 'the boot catalog at sector 20 has no valid validation entry']);
    expect((await readBootCatalog(reader(image({ catalogSector: 500, size: 30 * SECTOR })))).problem).toMatch(/beyond the end/);
  });
});

describe('the firmware check', () => {
  const biosOnly = { entries: [{ platform: 'bios' as const, platformId: 0, bootable: true, media: 'no-emulation' as const, loadRba: 30, sectorCount: 4 }] };
  const uefiOnly = { entries: [{ ...biosOnly.entries[0]!, platform: 'uefi' as const, platformId: 0xef }] };
  const codeAndMessage = (f: () => unknown): [string, string] => {
    try {
      f();
    } catch (err) {
      return [isXepaError(err) ? err.code : 'not a XepaError', (err as Error).message];
    }
    return ['no error', ''];
  };

  it('refuses UEFI for a BIOS-only ISO and names the firmware that would boot it', () => {
    expect(codeAndMessage(() => checkBootFirmware(biosOnly, 'uefi'))).toEqual(['ERR_ISO_FIRMWARE', 'this ISO has no UEFI boot entry (El Torito: BIOS only); use --firmware bios']);
  });

  it('refuses BIOS for a UEFI-only ISO', () => {
    expect(codeAndMessage(() => checkBootFirmware(uefiOnly, 'bios'))).toEqual(['ERR_ISO_FIRMWARE', 'this ISO has no BIOS boot entry (El Torito: UEFI only); use --firmware uefi']);
  });

  it('refuses both firmwares for an image without a boot catalog, saying why', () => {
    const [code, message] = codeAndMessage(() => checkBootFirmware({ entries: [], problem: 'no El Torito boot record (sector 17)' }, 'bios'));
    expect(code).toBe('ERR_ISO_FIRMWARE');
    expect(message).toBe('this ISO has no BIOS boot entry (El Torito: no boot entry: no El Torito boot record (sector 17)): it cannot boot from a CD-ROM');
  });

  it('accepts a firmware the ISO has an entry for and says what the catalog offers', () => {
    expect(checkBootFirmware(biosOnly, 'bios')).toBe('BIOS only');
    expect(checkBootFirmware({ entries: [...biosOnly.entries, ...uefiOnly.entries] }, 'uefi')).toBe('BIOS and UEFI');
  });
});
