import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';

// How long a WebSocket that broke the protocol has to answer the agent's close frame before its socket is cut.
// ws itself waits 30 s; a peer that sends malformed frames gets no such courtesy (its connection slot is freed).
export const PROTOCOL_ERROR_GRACE_MS = 1000;

const GUARDED = Symbol('xepa.socket-guard');
type Guardable = { [GUARDED]?: true };

/** Fields logged with each guarded socket's error (path, scope, remote ...). */
export type GuardFields = Record<string, unknown>;

// Makes a socket's 'error' event harmless to the process: an accepted TCP/TLS socket or a unix socket dialled to
// QEMU that fails (reset by the peer, EPIPE, QEMU gone) is logged and destroyed, so 'close' follows and its
// owner's close handling releases what it held. Every socket the agent accepts or opens passes through here,
// at birth, before any other code can see it. Guarding a socket twice adds nothing. Returns the socket.
// Peers reset connections all the time (debug); a failing QEMU socket is worth an info line.
export function guardSocket<S extends Duplex>(socket: S, log: Logger, fields: GuardFields = {}, level: 'debug' | 'info' = 'debug'): S {
  const s = socket as S & Guardable;
  if (s[GUARDED]) return socket;
  s[GUARDED] = true;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    log[level]({ ...fields, code: err.code, err: err.message }, 'socket error: closed');
    socket.destroy();
  });
  return socket;
}

// Makes a WebSocket's 'error' event harmless to the process, before any route sees the WebSocket. ws emits
// 'error' for every protocol violation of the peer (RFC 6455: oversized or unmasked frames, reserved bits or
// opcodes, invalid UTF-8, bad close codes, fragmented or oversized control frames ...) after it has already sent
// the close frame the RFC names (1002, 1007, 1009); without a listener that event ends the process. The guard
// logs the ws error code and cuts the socket if the peer has not completed the close within the grace period.
export function guardWebSocket(ws: WebSocket, log: Logger, fields: GuardFields = {}, graceMs = PROTOCOL_ERROR_GRACE_MS): WebSocket {
  const w = ws as WebSocket & Guardable;
  if (w[GUARDED]) return ws;
  w[GUARDED] = true;
  ws.on('error', (err: Error & { code?: string }) => {
    log.info({ ...fields, code: err.code, err: err.message }, 'websocket protocol error: closing');
    if (ws.readyState === ws.OPEN) ws.close(1011); // an error ws did not already answer with a close frame
    if (ws.readyState === ws.CLOSED) return;
    const cut = setTimeout(() => ws.terminate(), graceMs);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  });
  return ws;
}
