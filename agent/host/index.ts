// Host capability: sysfs/procfs access, the machine inventory and target disk resolution.
export { RootedFs } from './rooted-fs.js';
export { Sysfs } from './sysfs.js';
export { Procfs } from './procfs.js';
export { readInventory, type InventoryDeps } from './inventory.js';
export { resolveDisks, type ResolveDisksDeps } from './disks.js';
export { listDisks, readDisk } from './block-devices.js';
export { listNics } from './nics.js';
export { parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from './default-route.js';
export { listPciDevices, readPciDevice } from './pci-devices.js';
export { pciClassName } from './pci-classes.js';
export { bdfFromPath, BDF_RE } from './pci-address.js';
export { memoizedSi, defaultSi, type SiSubset, type SiCpu } from './si-cpu.js';
export type { KvmProbe } from './platform.js';
export { claimDisksExclusive } from './disk-claims.js';
export { claimDisksStep } from './claim-step.js';
export { checkDisksBack, diskProblems, disksBackStep, findDiskNow, waitForDisks, type ExpectedDisk } from './disks-back.js';
