import { request } from 'node:https';
import { HEALTH_PATH, XepaError, normalizeFingerprint, parseAgentHealth, type AgentHealth } from '../../agent/protocol/index.js';
import { connectPinned, parseAgentUrl } from './pinned-tls.js';

// Asks an agent who it is (GET /v1/health) over a TLS connection pinned to `fingerprint`.
export async function fetchAgentIdentity(o: { url: string; fingerprint: string; timeoutMs?: number }): Promise<AgentHealth> {
  const addr = parseAgentUrl(o.url);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const socket = await connectPinned({ ...addr, fingerprint: o.fingerprint, timeoutMs });
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: addr.host, port: addr.port, path: HEALTH_PATH, method: 'GET', createConnection: () => socket, timeout: timeoutMs },
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
  const health = parseAgentHealth(body, 'agent health');
  if (normalizeFingerprint(health.fingerprint) !== normalizeFingerprint(o.fingerprint)) {
    throw new XepaError('ERR_TLS_PIN', `agent reports fingerprint ${health.fingerprint}, which is not the one it presented`);
  }
  return health;
}
