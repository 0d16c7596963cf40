import os from 'node:os';
import type { Logger } from 'pino';
import type { Inventory } from '../protocol/inventory.js';
import { listDisks } from './block-devices.js';
import { readCpu } from './cpu.js';
import { readMemory } from './memory.js';
import { listNics } from './nics.js';
import { listPciDevices } from './pci-devices.js';
import { type KvmProbe, readFirmware, readIommu, readKvm } from './platform.js';
import type { Procfs } from './procfs.js';
import { defaultSi, type SiSubset } from './si-cpu.js';
import type { Sysfs } from './sysfs.js';

// Everything readInventory reads from; only sysfs, procfs and the logger are required.
export interface InventoryDeps {
  sysfs: Sysfs;
  procfs: Procfs;
  log: Logger;
  devRoot?: string; // where /dev/kvm is looked for; default /dev
  kvm?: KvmProbe; // the caller's verdict on KVM (it opened /dev/kvm); without it `usable` is left out
  networkInterfaces?: typeof os.networkInterfaces;
  hostname?: () => string;
  si?: SiSubset; // consulted only for what /proc/cpuinfo lacks; the default spawns lscpu once per process
}

// The machine as the `inventory` method reports it: CPU, memory, firmware, KVM, IOMMU, disks, NICs, PCI.
export async function readInventory(deps: InventoryDeps): Promise<Inventory> {
  const started = performance.now();
  const { sysfs, procfs } = deps;
  const [cpu, memory, firmware, kvm, iommu, disks, nics, pci] = await Promise.all([
    readCpu(procfs, deps.si ?? defaultSi()),
    readMemory(procfs),
    readFirmware(sysfs),
    readKvm(deps.devRoot ?? '/dev', deps.kvm),
    readIommu(sysfs),
    listDisks({ sysfs, procfs }),
    listNics({ sysfs, procfs, networkInterfaces: deps.networkInterfaces ?? os.networkInterfaces }),
    listPciDevices(sysfs),
  ]);
  const hostname = (deps.hostname ?? os.hostname)();
  deps.log.debug(
    { ms: Math.round(performance.now() - started), disks: disks.length, nics: nics.length, pci: pci.length },
    'inventory read',
  );
  return { hostname, cpu, memory, firmware, kvm, iommu, disks, nics, pci };
}
