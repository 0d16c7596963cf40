// PCI capability: enumeration from sysfs, IOMMU state and groups, the protected set, passthrough planning.
export type { HeaderType, IommuState, PciFunction, PciView } from './types.js';
export { readPciFunction, headerTypeOf, describePci, pciInfoOf } from './pci-function.js';
export { createPciIds, parsePciIds, PCI_IDS_PATHS, type PciIds, type PciNames } from './pci-ids.js';
export { readIommuState, interruptRemappingOf } from './iommu-state.js';
export { readPciView, type PciViewDeps } from './pci-view.js';
export { readBootDisks, bootDeviceSpecs } from './boot-medium.js';
export { readCriticalNics, type ControllerPeer, type CriticalNic } from './net-facts.js';
export { physicalNicsUnder, type LowerNic } from './net-lowers.js';
export { routeInterface, ipv4RouteInterface, ipv6RouteInterface, interfaceWithAddress, plainIp } from './net-routes.js';
export { computeProtectedSet, protectedList, protectionText, refusalText, type Protection, type ProtectionFacts } from './protected-set.js';
export { evaluateGroup, type GroupVerdict, type GroupRefusal } from './group-check.js';
export { planPassthrough, type PassthroughDecision, type PassthroughInput } from './passthrough-plan.js';
export { resolveNics } from './nic-select.js';
export { readPciContext, type PciContext, type PciContextDeps } from './pci-context.js';
