// The controller's registry of agents it has injected or met: id, address, pinned fingerprint, last seen.
export {
  RegisteredAgent,
  REGISTRY_FILE,
  registryPath,
  readRegistry,
  writeRegistry,
  updateRegistry,
  recordAgent,
  forgetAgent,
} from './agent-registry.js';
export { canonicalAddress, findRegisteredAgent } from './pin-lookup.js';
export { probeAgent, probeAgents } from './agent-status.js';
export type { AgentState, ProbeDeps } from './agent-status.js';
