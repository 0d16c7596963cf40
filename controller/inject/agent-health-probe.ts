import { z } from 'zod';
import { HEALTH_PATH, XepaError, normalizeFingerprint, parseAgentHealth, type AgentHealth } from '../../agent/protocol/index.js';
import { RESCUE_PATHS, SERVICE_NAME } from '../../alpine/index.js';
import { shq, type RemoteShell } from './remote-shell.js';
import type { InitKind } from './remote-service.js';

// Runs on the rescue system under its own node (18 or newer, CommonJS from stdin): polls GET /v1/health on the
// agent's port until it answers, and reports the certificate the agent presented next to the one in its state
// directory, so the fingerprint is learned over the authenticated SSH channel, never from the network.
export const HEALTH_PROBE_SCRIPT = `
const https = require('https'), fs = require('fs'), crypto = require('crypto');
const [host, port, certPath, timeoutMs] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutMs);
const fileFingerprint = () => { try { return new crypto.X509Certificate(fs.readFileSync(certPath)).fingerprint256; } catch (e) { return null; } };
const attempt = () => new Promise((resolve) => {
  const req = https.get({ host, port: Number(port), path: ${JSON.stringify(HEALTH_PATH)}, rejectUnauthorized: false, agent: false, timeout: 5000 }, (res) => {
    const cert = res.socket.getPeerX509Certificate && res.socket.getPeerX509Certificate();
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { body += d; });
    res.on('end', () => resolve({ status: res.statusCode, body, presented: cert ? cert.fingerprint256 : null }));
  });
  req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
  req.on('error', (e) => resolve({ error: e.code || e.message }));
});
(async () => {
  let last = { error: 'not tried' };
  while (Date.now() < deadline) {
    last = await attempt();
    if (last.status === 200) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stdout.write(JSON.stringify(Object.assign({}, last, { file: fileFingerprint() })));
  process.exit(last.status === 200 ? 0 : 3);
})();
`;

const ProbeOutput = z.object({
  status: z.number().optional(),
  body: z.string().optional(),
  presented: z.string().nullable().optional(),
  file: z.string().nullable(),
  error: z.string().optional(),
});

// The last lines of the agent's log, for error messages.
async function logTail(shell: RemoteShell, init: InitKind): Promise<string> {
  const script = init === 'systemd' ? `journalctl -u ${SERVICE_NAME} -n 15 --no-pager 2>/dev/null` : `tail -n 15 ${shq(RESCUE_PATHS.log)} 2>/dev/null`;
  const r = await shell.exec(script);
  return r.stdout.toString('utf8').trim() || '(empty log)';
}

// Waits for the agent to answer /v1/health on the rescue system and returns its identity; ERR_TIMEOUT with the
// log's tail when it does not, ERR_TLS_PIN when the presented certificate is not the one in its state directory.
export async function probeAgentHealth(shell: RemoteShell, o: { host: string; port: number; certPath: string; init: InitKind; timeoutMs: number }): Promise<AgentHealth> {
  const args = [o.host, String(o.port), o.certPath, String(o.timeoutMs)].map(shq).join(' ');
  const r = await shell.exec(`exec node - ${args}`, { stdin: HEALTH_PROBE_SCRIPT });
  const parsed = ProbeOutput.safeParse((() => {
    try {
      return JSON.parse(r.stdout.toString('utf8'));
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success || r.code !== 0 || parsed.data.status !== 200) {
    const why = parsed.success ? (parsed.data.error ?? `HTTP ${parsed.data.status}`) : `the probe failed: ${r.stderr.trim() || `exit ${r.code}`}`;
    throw new XepaError('ERR_TIMEOUT', `the agent did not answer on ${o.host}:${o.port} within ${o.timeoutMs / 1000} s (${why}); its log ends with:\n${await logTail(shell, o.init)}`);
  }
  const health = parseAgentHealth(parsed.data.body ?? '', `the agent's ${HEALTH_PATH}`);
  const fromHealth = normalizeFingerprint(health.fingerprint);
  const { presented, file } = parsed.data;
  if (!presented || !file || normalizeFingerprint(presented) !== fromHealth || normalizeFingerprint(file) !== fromHealth) {
    throw new XepaError('ERR_TLS_PIN', `the agent's certificates disagree: presented ${presented ?? 'none'}, ${o.certPath} ${file ?? 'unreadable'}, /v1/health ${fromHealth}`);
  }
  return { ...health, fingerprint: fromHealth }; // canonical: identical in the certificate, the file and the answer
}
