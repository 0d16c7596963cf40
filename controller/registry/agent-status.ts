import { isXepaError, type AgentHealth } from '../../agent/protocol/index.js';
import { fetchAgentIdentity } from '../client/index.js';
import type { RegisteredAgent } from './agent-registry.js';

/** How a registered agent answered a pinned health probe. */
export type AgentState =
  | { state: 'up'; version: string; seenAt: string }
  | { state: 'unreachable'; reason: string } // no TLS connection, or no answer in time
  | { state: 'wrong-certificate'; reason: string } // something answers there with another certificate
  | { state: 'other-agent'; reason: string } // the pinned certificate answers, but with another agent id
  | { state: 'error'; reason: string };

/** What probeAgents needs from outside. */
export interface ProbeDeps {
  identify?: (o: { url: string; fingerprint: string; timeoutMs: number }) => Promise<AgentHealth>;
  now?: () => Date;
}

// Probes one agent: GET /v1/health over TLS pinned to the registered fingerprint.
export async function probeAgent(agent: RegisteredAgent, timeoutMs: number, deps: ProbeDeps = {}): Promise<AgentState> {
  const identify = deps.identify ?? fetchAgentIdentity;
  try {
    const id = await identify({ url: `wss://${agent.address}`, fingerprint: agent.fingerprint, timeoutMs });
    if (id.agentId !== agent.id) return { state: 'other-agent', reason: `the agent there calls itself ${id.agentId}` };
    return { state: 'up', version: id.version, seenAt: (deps.now?.() ?? new Date()).toISOString() };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (isXepaError(err, 'ERR_TLS_PIN')) return { state: 'wrong-certificate', reason };
    if (isXepaError(err, 'ERR_CONNECT') || isXepaError(err, 'ERR_TIMEOUT')) return { state: 'unreachable', reason };
    return { state: 'error', reason };
  }
}

// Probes every agent in parallel, each with its own short timeout; results in the agents' order.
export function probeAgents(agents: readonly RegisteredAgent[], timeoutMs: number, deps: ProbeDeps = {}): Promise<AgentState[]> {
  return Promise.all(agents.map((a) => probeAgent(a, timeoutMs, deps)));
}
