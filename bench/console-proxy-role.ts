import { createPublicKey } from 'node:crypto';
import { pino } from 'pino';
import { ensureTlsIdentity, startAgentServer } from '../agent/api/index.js';
import { createConsoleRoutes, type QmpPort } from '../agent/console/index.js';
import { XepaError } from '../agent/protocol/index.js';

// The console benchmark runs the agent's console proxy in its own process (this bench bundle again, role
// "console-proxy") so its CPU is measured alone, exactly as websockify's is. Configuration comes in
// XEPA_CONSOLE_PROXY as JSON; the role prints {"port": N} once listening and serves until killed.

/** What the proxy role serves. */
export interface ConsoleProxyConfig {
  tlsDir: string; // the TLS identity (websockify is given the same certificate)
  publicKeyPem: string; // the bench's controller key
  agentId: string;
  targets: Record<string, string>; // ?job=NAME -> VNC unix socket
}

// The VNC endpoint never touches QMP; a target still needs one.
const NO_QMP = {
  greeting: { version: { qemu: { major: 0, minor: 0, micro: 0 }, package: 'bench' }, capabilities: [] },
  closed: false,
  execute: () => Promise.reject(new XepaError('ERR_QMP_DISCONNECTED', 'no QMP in the console benchmark')),
  on: () => NO_QMP,
  off: () => NO_QMP,
} as unknown as QmpPort;

// Role entry: serves /v1/vnc for the configured targets on 127.0.0.1.
export async function consoleProxyRole(): Promise<void> {
  const cfg = JSON.parse(process.env.XEPA_CONSOLE_PROXY ?? '{}') as ConsoleProxyConfig;
  const log = pino({ level: 'silent' });
  const id = await ensureTlsIdentity(cfg.tlsDir);
  const consoles = createConsoleRoutes({
    targets: (job) => {
      const vnc = cfg.targets[job ?? ''];
      if (!vnc) throw new XepaError('ERR_NOT_FOUND', `no bench target ${job}`);
      return { job: job ?? '', dir: cfg.tlsDir, vnc, serial: [], serialLogs: [], qmp: NO_QMP };
    },
    log,
  });
  const server = await startAgentServer({
    port: 0,
    host: '127.0.0.1',
    tls: { key: id.key, cert: id.cert },
    agentId: cfg.agentId,
    fingerprint: id.fingerprint,
    trustedKeys: [createPublicKey(cfg.publicKeyPem)],
    handlers: {} as never,
    log,
    version: 'bench',
    routes: consoles.routes,
  });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await server.close();
  process.exit(0);
}
