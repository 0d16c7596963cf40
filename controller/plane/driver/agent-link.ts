import type { KeyObject } from 'node:crypto';
import { PROTOCOL_VERSION, XepaError } from '../../../agent/protocol/index.js';
import { mintToken } from '../../auth/index.js';
import { connectAgent } from '../../client/index.js';
import type { AgentRecord } from '../store/index.js';
import type { AgentLink } from './job-driver.js';

// How a replica reaches an agent of the registry: pinned TLS to its fingerprint, a fresh short control token per
// connection (signed with the controller key), and a hello that proves the agent there is the one registered.
export function agentConnector(privateKey: KeyObject | string, opts: { tokenTtlSeconds?: number; giveUpAfterMs?: number } = {}) {
  return async (agent: AgentRecord): Promise<AgentLink> => {
    const client = await connectAgent({
      url: `wss://${agent.address}`,
      fingerprint: agent.fingerprint,
      token: () => mintToken(privateKey, { agentId: agent.id, scope: ['control'], ttlSeconds: opts.tokenTtlSeconds ?? 120 }),
      giveUpAfterMs: opts.giveUpAfterMs,
      backoff: { minMs: 200, maxMs: 5000 },
    });
    const hello = await client.call('hello', { protocol: PROTOCOL_VERSION });
    if (hello.agentId !== agent.id) {
      await client.close();
      throw new XepaError('ERR_TLS_PIN', `the agent at ${agent.address} is ${hello.agentId}, not ${agent.id}`);
    }
    return client;
  };
}
