import { z } from 'zod';
import { XepaError } from './errors.js';

// The path of the agent's one plain-HTTP endpoint.
export const HEALTH_PATH = '/v1/health';

// Who an agent is: the answer of GET /v1/health and the result of the `hello` method (one shape for both).
export const AgentHealth = z.object({
  agentId: z.string(),
  version: z.string(),
  protocol: z.number().int(),
  fingerprint: z.string(), // the SHA-256 fingerprint of the certificate the agent serves
});
export type AgentHealth = z.infer<typeof AgentHealth>;

// Parses the body of a /v1/health answer; ERR_PROTOCOL_VERSION (naming `from`) when it is not JSON of that shape.
export function parseAgentHealth(body: string, from: string): AgentHealth {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new XepaError('ERR_PROTOCOL_VERSION', `${from} answered something that is not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = AgentHealth.safeParse(json);
  if (!parsed.success) throw new XepaError('ERR_PROTOCOL_VERSION', `${from} answer does not match the protocol: ${body.slice(0, 200)}`);
  return parsed.data;
}
