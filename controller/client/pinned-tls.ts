import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { XepaError, normalizeFingerprint } from '../../agent/protocol/index.js';
import { urlOf } from './url-of.js';

/** Host and port of an agent URL (https:// or wss://, default port 7443). */
export interface AgentAddress {
  host: string;
  port: number;
}

// Parses an agent URL; only https: and wss: are accepted (the agent only speaks TLS).
export function parseAgentUrl(url: string): AgentAddress {
  const u = urlOf(url, ['wss:', 'https:'], 'an agent URL');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: u.port ? Number(u.port) : 7443 };
}

/** How to dial the agent and which certificate to expect. */
export interface PinnedConnectOptions extends AgentAddress {
  fingerprint: string;
  timeoutMs?: number; // default 10 s
  connect?: (o: ConnectionOptions) => TLSSocket; // default tls.connect
}

// Opens a TLS connection and checks the server certificate's SHA-256 fingerprint before returning it:
// nothing is ever written on a socket whose certificate is not the pinned one. Wrong certificate ->
// ERR_TLS_PIN; network failure or timeout -> ERR_CONNECT.
export function connectPinned(o: PinnedConnectOptions): Promise<TLSSocket> {
  const expected = normalizeFingerprint(o.fingerprint);
  const dial = o.connect ?? tlsConnect;
  return new Promise((resolve, reject) => {
    // The pin replaces CA and host name checks: a self-signed certificate is expected.
    const servername = isIP(o.host) === 0 ? o.host : undefined; // SNI takes host names only
    const socket = dial({ host: o.host, port: o.port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const where = `${o.host}:${o.port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new XepaError('ERR_CONNECT', `cannot connect to ${where}: TLS handshake timed out`));
    }, o.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      const got = socket.getPeerX509Certificate()?.fingerprint256;
      if (got !== expected) {
        socket.destroy();
        reject(
          new XepaError('ERR_TLS_PIN', `the agent at ${where} presented certificate ${got ?? '(none)'}, expected ${expected}: refusing to talk to it`, {
            details: { expected, got: got ?? null },
          }),
        );
        return;
      }
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new XepaError('ERR_CONNECT', `cannot connect to ${where}: ${err.message}`, { cause: err }));
    });
  });
}
