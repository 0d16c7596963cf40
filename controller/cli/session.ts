import type { AgentClient, ClientStatus } from '../client/index.js';
import { connectAgent, fetchAgentIdentity } from '../client/index.js';
import { defaultControllerDir, loadControllerKey, mintToken } from '../auth/index.js';
import { PROTOCOL_VERSION } from '../../agent/protocol/index.js';
import { agentUrl, fingerprintOf } from './args.js';

// Token lifetime for the control channel: short, a fresh one is minted for every (re)connection.
const CONTROL_TOKEN_TTL_S = 120;

export interface Session {
  client: AgentClient;
  agentId: string;
  url: string;
  close(): void;
}

// Opens a pinned, authenticated control connection to the agent at HOST and says hello.
export async function openSession(
  host: string | undefined,
  flags: { fingerprint?: string | undefined; 'key-dir'?: string | undefined },
  say?: (text: string) => void,
): Promise<Session> {
  const url = agentUrl(host);
  const fingerprint = fingerprintOf(flags.fingerprint);
  const key = await loadControllerKey(flags['key-dir'] ?? defaultControllerDir());
  const identity = await fetchAgentIdentity({ url, fingerprint });
  const client = await connectAgent({
    url,
    fingerprint,
    token: () => mintToken(key.privateKey, { agentId: identity.agentId, scope: ['control'], ttlSeconds: CONTROL_TOKEN_TTL_S }),
    reconnect: true,
    ...(say ? { onStatus: (st: ClientStatus) => { const t = describeStatus(st); if (t) say(t); } } : {}),
  });
  await client.call('hello', { protocol: PROTOCOL_VERSION, client: 'xepa-cli' });
  return { client, agentId: identity.agentId, url, close: () => client.close() };
}

// A connection status change as a line for the user (nothing for the first, ordinary connect).
export function describeStatus(s: ClientStatus): string | undefined {
  switch (s.state) {
    case 'connected':
      return undefined;
    case 'disconnected':
      return `connection to the agent lost (${s.reason}); the job goes on there`;
    case 'reconnecting':
      return `reconnecting in ${(s.delayMs / 1000).toFixed(0)} s (attempt ${s.attempt})`;
    case 'reconnected':
      return 'reconnected; resuming events where they stopped';
    case 'closed':
      return s.error ? `connection closed: ${s.error.message}` : undefined;
  }
}
