import type { AgentStreamTarget } from './agent-link.js';

// The agent endpoint behind each console stream (DESIGN §5), for one job's VM (`?job=ID`).
export function agentStreamTarget(kind: 'vnc' | 'qmp' | { serial: number }, job: string): AgentStreamTarget {
  const query = { job };
  if (kind === 'vnc') return { path: '/v1/vnc', query, subprotocols: ['binary'] };
  if (kind === 'qmp') return { path: '/v1/qmp', query, subprotocols: ['xepa'] };
  return { path: `/v1/serial/${kind.serial}`, query, subprotocols: ['binary'] };
}
