import { promises as fs } from 'node:fs';
import { isENOENT } from '../protocol/index.js';

// Where distributions put the PCI ID database (Debian `pci.ids`: /usr/share/misc; Fedora/Alpine hwdata).
export const PCI_IDS_PATHS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'];

// Human names of one function, as far as pci.ids knows them.
export interface PciNames {
  vendor?: string;
  device?: string;
}

// A pci.ids lookup; names are undefined when the database is absent or does not know the ids.
export interface PciIds {
  lookup(vendorId: string, deviceId: string): Promise<PciNames>;
}

type Table = Map<string, { name: string; devices: Map<string, string> }>;

const bare = (id: string): string => id.toLowerCase().replace(/^0x/, '');

// Parses the vendor and device lines of pci.ids (`vvvv  Name`, `\tdddd  Name`); stops at the class section.
export function parsePciIds(text: string): Table {
  const table: Table = new Map();
  let vendor: { name: string; devices: Map<string, string> } | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('C ')) break; // the class list follows the vendors
    const v = /^([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (v) {
      vendor = { name: v[2]!.trim(), devices: new Map() };
      table.set(v[1]!, vendor);
      continue;
    }
    const d = /^\t([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (d && vendor) vendor.devices.set(d[1]!, d[2]!.trim());
  }
  return table;
}

// A lazy pci.ids: the first lookup reads and parses the first file that exists; later ones reuse it.
export function createPciIds(paths: string[] = PCI_IDS_PATHS, readFile = (p: string) => fs.readFile(p, 'utf8')): PciIds {
  let table: Promise<Table | undefined> | undefined;
  const load = async (): Promise<Table | undefined> => {
    for (const p of paths) {
      try {
        return parsePciIds(await readFile(p));
      } catch (err) {
        if (!isENOENT(err)) throw err;
      }
    }
    return undefined;
  };
  return {
    async lookup(vendorId, deviceId) {
      table ??= load();
      const v = (await table)?.get(bare(vendorId));
      if (!v) return {};
      const device = v.devices.get(bare(deviceId));
      return device === undefined ? { vendor: v.name } : { vendor: v.name, device };
    },
  };
}
