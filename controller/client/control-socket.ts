import { MAX_CONTROL_MESSAGE, XepaError } from '../../agent/protocol/index.js';
import WebSocket from 'ws';
import { connectPinned, parseAgentUrl } from './pinned-tls.js';
import { rejectOnUpgradeRefusal } from './upgrade-refusal.js';

/** How to open one control connection. */
export interface OpenControlOptions {
  url: string; // wss://host:port (the path /v1/control is implied)
  fingerprint: string;
  token: string;
  timeoutMs?: number; // TLS + upgrade, default 10 s
}

// Opens an authenticated WebSocket to /v1/control. The TLS pin is checked first, on a socket that has carried
// nothing yet; only then is the upgrade request (with the token) written on it. A refused upgrade becomes the
// agent's `{ code, message }` as a XepaError (ERR_UNAUTHORIZED, ERR_FORBIDDEN ...).
export async function openControlSocket(o: OpenControlOptions): Promise<WebSocket> {
  const addr = parseAgentUrl(o.url);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const socket = await connectPinned({ ...addr, fingerprint: o.fingerprint, timeoutMs });
  const wsUrl = new URL(`wss://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}/v1/control`);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, ['xepa'], {
      createConnection: () => socket,
      headers: { Authorization: `Bearer ${o.token}` },
      perMessageDeflate: false,
      maxPayload: MAX_CONTROL_MESSAGE,
      handshakeTimeout: timeoutMs,
    });
    rejectOnUpgradeRefusal(ws, socket, 'the connection', reject);
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => undefined); // the owner watches 'close', which always follows an error
      resolve(ws);
    });
    ws.once('error', (err) => {
      socket.destroy();
      reject(new XepaError('ERR_CONNECT', `cannot open the control channel at ${wsUrl.host}: ${err.message}`, { cause: err }));
    });
  });
}
