// Host capability: sysfs/procfs access, CPU, memory, firmware, disks and NICs, and target disk resolution.
export { RootedFs } from './rooted-fs.js';
export { Sysfs } from './sysfs.js';
export { Procfs } from './procfs.js';
export { readCpu } from './cpu.js';
export { readMemory } from './memory.js';
export { readFirmware, readKvm, type KvmProbe } from './platform.js';
export { resolveDisks, devRealpath, type ResolveDisksDeps } from './disks.js';
export { listDisks, readDisk } from './block-devices.js';
export { listNics } from './nics.js';
export { parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from './default-route.js';
export { pciClassName } from './pci-classes.js';
export { bdfFromPath, BDF_RE } from './pci-address.js';
export { memoizedSi, defaultSi, type SiSubset, type SiCpu } from './si-cpu.js';
export { claimDisksExclusive } from './disk-claims.js';
export { claimDisksStep } from './claim-step.js';
export { checkDisksBack, diskProblems, disksBackStep, findDiskNow, waitForDisks, type ExpectedDisk } from './disks-back.js';
