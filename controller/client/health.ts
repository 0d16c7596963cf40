import { request } from 'node:https';
import { z } from 'zod';
import { XepaError } from '../../agent/protocol/index.js';
import { normalizeFingerprint } from '../../agent/protocol/index.js';
import { connectPinned, parseAgentUrl } from './pinned-tls.js';

// What GET /v1/health answers.
export const AgentIdentity = z.object({
  agentId: z.string(),
  version: z.string(),
  protocol: z.number().int(),
  fingerprint: z.string(),
});
export type AgentIdentity = z.infer<typeof AgentIdentity>;

// Asks an agent who it is (GET /v1/health) over a TLS connection pinned to `fingerprint`.
export async function fetchAgentIdentity(o: { url: string; fingerprint: string; timeoutMs?: number }): Promise<AgentIdentity> {
  const addr = parseAgentUrl(o.url);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const socket = await connectPinned({ ...addr, fingerprint: o.fingerprint, timeoutMs });
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: addr.host, port: addr.port, path: '/v1/health', method: 'GET', createConnection: () => socket, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new XepaError('ERR_CONNECT', `agent health answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolve(text);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new XepaError('ERR_TIMEOUT', `agent health did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof XepaError ? err : new XepaError('ERR_CONNECT', `agent health failed: ${err.message}`, { cause: err })));
    req.end();
  }).finally(() => socket.destroy());
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new XepaError('ERR_PROTOCOL_VERSION', 'agent health answered something that is not JSON');
  }
  const parsed = AgentIdentity.safeParse(json);
  if (!parsed.success) throw new XepaError('ERR_PROTOCOL_VERSION', 'agent health answer does not match the protocol');
  if (normalizeFingerprint(parsed.data.fingerprint) !== normalizeFingerprint(o.fingerprint)) {
    throw new XepaError('ERR_TLS_PIN', `agent reports fingerprint ${parsed.data.fingerprint}, which is not the one it presented`);
  }
  return parsed.data;
}
