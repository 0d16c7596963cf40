// Machine capability: one snapshot of the machine per request (inventory and PCI side, read once through the
// injected roots), what a plan relied on in it, and the refusal when a fresh snapshot differs (docs/install-job.md).
export { takeSnapshot, readInventory, type MachineDeps, type MachineSnapshot } from './snapshot.js';
export { planBasis, planChanges, changeText, assertPlanHolds, type PlanFact, type PlanChange } from './plan-basis.js';
export { PlanMemory } from './plan-memory.js';
