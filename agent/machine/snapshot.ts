import os from 'node:os';
import type { Logger } from 'pino';
import { type KvmProbe, type Procfs, type SiSubset, type Sysfs, defaultSi, readCpu, readFirmware, readKvm, readMemory } from '../host/index.js';
import { type ControllerPeer, type PciContext, type PciIds, pciInfoOf, readPciContext } from '../pci/index.js';
import type { Inventory } from '../protocol/index.js';
import { readOnce } from './read-once.js';

// The roots and sources a snapshot reads; only sysfs, procfs and the logger are required.
export interface MachineDeps {
  sysfs: Sysfs;
  procfs: Procfs;
  log: Logger;
  devRoot?: string; // /dev: /dev/kvm, the boot medium's links; default /dev
  ids?: PciIds; // pci.ids names; none without it
  kvm?: () => Promise<KvmProbe>; // the agent's verdict on KVM (it booted a kernel under it); without it `usable` is left out
  networkInterfaces?: typeof os.networkInterfaces;
  hostname?: () => string;
  si?: SiSubset; // consulted only for what /proc/cpuinfo lacks; the default spawns lscpu once per process
}

// The machine as one request sees it, read once: the inventory (what `inventory` reports and the plan sizes the VM
// from) and the PCI side (functions, IOMMU groups, the protected set for this request's controller). The
// inventory's disks, NICs and PCI list are the PCI view's own: one reading, never two that could disagree.
// `pci` is absent only where a caller builds a snapshot by hand without a PCI side (plans are then raw).
export interface MachineSnapshot {
  inventory: Inventory;
  pci?: PciContext;
}

// Reads the machine once for a controller seen at `peers` (the control connection's ends; with none, every
// default-route NIC counts as the controller's): /sys, /proc and /dev through the injected roots, each sysfs and
// procfs path at most once (readOnce), so the parts of one snapshot cannot disagree about a file.
export async function takeSnapshot(deps: MachineDeps, peers: ControllerPeer[] = []): Promise<MachineSnapshot> {
  const started = performance.now();
  const sysfs = readOnce(deps.sysfs);
  const procfs = readOnce(deps.procfs);
  const devRoot = deps.devRoot ?? '/dev';
  const [pci, cpu, memory, firmware, kvm] = await Promise.all([
    readPciContext({ sysfs, procfs, devRoot, networkInterfaces: deps.networkInterfaces ?? os.networkInterfaces, ...(deps.ids ? { ids: deps.ids } : {}) }, peers),
    readCpu(procfs, deps.si ?? defaultSi()),
    readMemory(procfs),
    readFirmware(sysfs),
    (deps.kvm ? deps.kvm() : Promise.resolve(undefined)).then((probe) => readKvm(devRoot, probe)),
  ]);
  const { view } = pci;
  const inventory: Inventory = {
    hostname: (deps.hostname ?? os.hostname)(),
    cpu,
    memory,
    firmware,
    kvm,
    iommu: { enabled: view.iommu.enabled, groups: view.iommu.groups },
    disks: view.disks,
    nics: view.nics,
    pci: view.devices.map(pciInfoOf),
  };
  deps.log.debug(
    { ms: Math.round(performance.now() - started), disks: view.disks.length, nics: view.nics.length, pci: view.devices.length },
    'machine snapshot taken',
  );
  return { inventory, pci };
}

// The `inventory` method's answer: the inventory part of a snapshot.
export async function readInventory(deps: MachineDeps): Promise<Inventory> {
  return (await takeSnapshot(deps)).inventory;
}
