import type { AgentClient, ClientStatus } from '../client/index.js';
import { connectAgent, fetchAgentIdentity } from '../client/index.js';
import { defaultControllerDir, loadControllerKey, mintToken } from '../auth/index.js';
import { PROTOCOL_VERSION } from '../../agent/protocol/index.js';
import { findRegisteredAgent, readRegistry, registryPath } from '../registry/index.js';
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
  const dir = flags['key-dir'] ?? defaultControllerDir();
  const { url, fingerprint } = await resolvePin(host, flags.fingerprint, registryPath(dir), say);
  const key = await loadControllerKey(dir);
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

// Where the agent is and which fingerprint to pin: --fingerprint or XEPA_FINGERPRINT when given, else the one
// the registry recorded for HOST (an agent id or its address), saying so.
export async function resolvePin(
  host: string | undefined,
  flag: string | undefined,
  registryFile: string,
  say?: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; fingerprint: string }> {
  const given = flag ?? env.XEPA_FINGERPRINT;
  // A damaged registry only matters when it is the pin's source.
  const agents = await readRegistry(registryFile).catch((err: unknown) => {
    if (given) return [];
    throw err;
  });
  const registered = host ? findRegisteredAgent(agents, host) : undefined;
  const url = registered && registered.id === host ? agentUrl(registered.address) : agentUrl(host);
  if (given) return { url, fingerprint: fingerprintOf(flag, env) };
  if (!registered) return { url, fingerprint: fingerprintOf(undefined, env) }; // ERR_BAD_REQUEST naming the options
  say?.(`pinning agent ${registered.id} at ${registered.address} to fingerprint ${registered.fingerprint} recorded in ${registryFile}`);
  return { url, fingerprint: registered.fingerprint };
}
