// Driving jobs from the control plane: one replica per job at a time through the store's lease, events resumed
// from the last stored seq after a takeover. docs/control-plane.md
export { driveJob } from './job-driver.js';
export type { AgentLink, DriveOutcome, JobDriverDeps } from './job-driver.js';
export { startReplica } from './replica.js';
export type { Replica, ReplicaOptions } from './replica.js';
export { agentConnector } from './agent-link.js';
