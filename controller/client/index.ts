// The controller's client of an agent: pinned TLS, health probe, and the reconnecting control channel.
export { connectAgent, AgentClient } from './agent-client.js';
export type { ConnectAgentOptions, CallOptions, ClientStatus } from './agent-client.js';
export { fetchAgentIdentity } from './health.js';
export { connectPinned, parseAgentUrl } from './pinned-tls.js';
export type { AgentAddress, PinnedConnectOptions } from './pinned-tls.js';
export { openControlSocket } from './control-socket.js';
export type { OpenControlOptions } from './control-socket.js';
export { JobFollowers } from './job-followers.js';
export { rejectOnUpgradeRefusal } from './upgrade-refusal.js';
export { urlOf } from './url-of.js';
