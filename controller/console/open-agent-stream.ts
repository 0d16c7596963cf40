import WebSocket from 'ws';
import { XepaError } from '../../agent/protocol/index.js';
import { connectPinned, parseAgentUrl, rejectOnUpgradeRefusal } from '../client/index.js';

/** How to open one console stream on an agent. */
export interface AgentStreamOptions {
  url: string; // the agent: wss://host:port (any path in it is ignored)
  fingerprint: string; // the agent's pinned TLS certificate (SHA-256)
  token: string; // a token with the endpoint's scope (vnc, vnc:view, serial, qmp, shell)
  path: string; // /v1/vnc, /v1/serial/0, /v1/qmp, /v1/shell, /v1/screendump
  query?: Record<string, string | number | undefined>; // e.g. { job: 'job-1234' } (never a token: the agent refuses those)
  subprotocols?: string[]; // offered to the agent; default ['binary']
  maxPayload?: number; // largest message accepted from the agent, default 64 MiB
  timeoutMs?: number; // TLS handshake + upgrade, default 10 s
  pingIntervalMs?: number; // ping the agent this often and drop it when a pong is missed (default 20 s; 0 = off)
  // Frame masking key: 'zero' (default) lets the agent skip unmasking, its largest upstream cost without the
  // native bufferutil (about 2 CPU-s/GB in JavaScript). Masking exists so script-chosen bytes cannot poison
  // caching intermediaries (RFC 6455 §10.3); this stream is TLS end to end to a pinned agent, so none can read
  // it, and no untrusted script chooses its bytes. 'random' behaves like a browser.
  mask?: 'zero' | 'random';
}

const ZERO_MASK = (mask: Buffer): void => void mask.fill(0);

// Opens an authenticated WebSocket to one of the agent's console endpoints. The TLS pin is checked first, on a
// socket that has carried nothing yet; only then is the upgrade request (with the token in the Authorization
// header, never in the URL) written on it. A refused upgrade becomes the agent's `{ code, message }` as a
// XepaError (ERR_UNAUTHORIZED, ERR_FORBIDDEN, ERR_NOT_FOUND when no VM runs, ERR_UNAVAILABLE ...).
// The WebSocket is open and PAUSED when this resolves, so nothing the agent sends at once (the RFB greeting,
// the serial scrollback) is emitted before the caller listens: attach 'message' listeners, then ws.resume().
// (bridgeLocalSocket, attachTerminal, readScreenshot and runQmpCommand do that themselves.)
export async function openAgentStream(o: AgentStreamOptions): Promise<WebSocket> {
  const addr = parseAgentUrl(o.url);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const socket = await connectPinned({ ...addr, fingerprint: o.fingerprint, timeoutMs });
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const wsUrl = new URL(`wss://${host}:${addr.port}${o.path}`);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) wsUrl.searchParams.set(k, String(v));
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(wsUrl, o.subprotocols ?? ['binary'], {
      createConnection: () => socket,
      headers: { Authorization: `Bearer ${o.token}` },
      perMessageDeflate: false,
      maxPayload: o.maxPayload ?? 64 << 20,
      handshakeTimeout: timeoutMs,
      ...(o.mask === 'random' ? {} : { generateMask: ZERO_MASK }),
    });
    rejectOnUpgradeRefusal(ws, socket, o.path, reject);
    ws.once('open', () => {
      ws.pause(); // before the first data event (queued on nextTick), so no message is emitted unheard
      ws.removeAllListeners('error');
      ws.on('error', () => undefined); // the owner watches 'close', which always follows an error
      resolve(ws);
    });
    ws.once('error', (err) => {
      socket.destroy();
      reject(err instanceof XepaError ? err : new XepaError('ERR_CONNECT', `cannot open ${o.path} at ${wsUrl.host}: ${err.message}`, { cause: err }));
    });
  });
  watchLiveness(ws, o.pingIntervalMs ?? 20_000);
  return ws;
}

// Pings the agent every interval; an agent that did not answer the previous ping is dropped (terminate).
function watchLiveness(ws: WebSocket, intervalMs: number): void {
  if (intervalMs <= 0) return;
  let alive = true;
  ws.on('pong', () => (alive = true));
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}
