// The landing (docs/fidelity.md, "Finish: the move to metal"): the rescue system's live network, the installed
// root found and opened from the rescue system, its network stack detected by what it enables, and the
// configuration written so that the server's NIC comes up by MAC.
export { parseRescueNetwork, readRescueNetwork, describeRescueNetwork, type RescueNetworkInputs, type RescueNetworkDeps } from './rescue-network.js';
export { inSubnet4, ipv4ToNumber } from './ip-math.js';
export { RootTree, sha256 } from './root-tree.js';
export { detectNetworkStack, parseOsRelease, type StackDetection } from './network-stack.js';
export { probeFs, readBytesAt, ROOT_FS, type FsKind, type ReadAt } from './fs-probe.js';
export { listDiskParts, rootCandidates, type DiskPart, type PartsDeps } from './installed-root.js';
export { ensureKernelFs, mountArgs, mountPart, unmount, withMounted, type MountDeps } from './root-mount.js';
export { landNetwork, type LandingDeps, type LandingOutcome } from './land-network.js';
export * from './writers/index.js';
