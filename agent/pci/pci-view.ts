import os from 'node:os';
import { type Procfs, type Sysfs, listDisks, listNics } from '../host/index.js';
import { readIommuState } from './iommu-state.js';
import { readPciFunction } from './pci-function.js';
import type { PciIds } from './pci-ids.js';
import type { PciView } from './types.js';

// What readPciView reads from; sysfs and procfs are required, the rest has real defaults.
export interface PciViewDeps {
  sysfs: Sysfs;
  procfs: Procfs;
  ids?: PciIds; // pci.ids names; none without it
  networkInterfaces?: typeof os.networkInterfaces;
}

// Every PCI function with its group, driver and the disks/NICs behind it, plus the IOMMU state.
// Disks and NICs come from agent/host (their pciAddress is the function closest to them).
export async function readPciView(deps: PciViewDeps): Promise<PciView> {
  const { sysfs, procfs } = deps;
  const bdfs = await sysfs.list('bus/pci/devices');
  const [iommu, devices, disks, nics] = await Promise.all([
    readIommuState(sysfs, procfs),
    Promise.all(bdfs.map((b) => readPciFunction(sysfs, b, deps.ids))),
    listDisks({ sysfs, procfs }),
    listNics({ sysfs, procfs, networkInterfaces: deps.networkInterfaces ?? os.networkInterfaces }),
  ]);
  const byBdf = new Map(devices.map((d) => [d.bdf, d]));
  for (const d of disks) if (d.pciAddress) byBdf.get(d.pciAddress)?.disks.push(d.name);
  for (const n of nics) if (n.pciAddress) byBdf.get(n.pciAddress)?.nics.push(n.name);
  const groups = new Map<number, string[]>();
  for (const g of await sysfs.list('kernel/iommu_groups')) {
    if (/^\d+$/.test(g)) groups.set(Number(g), await sysfs.list(`kernel/iommu_groups/${g}/devices`));
  }
  return { iommu, devices, groups, disks, nics };
}
