import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { EventEnvelope } from '../protocol/index.js';
import type { ControlConnection, Dispatch } from './control.js';

// Largest amount of unsent data a control connection may pile up before it is dropped (a stuck reader
// must not make the agent grow its memory without limit).
export const MAX_BUFFERED_BYTES = 8 << 20;

// Requests one control connection may have in progress at once. Beyond it a request is refused at once with
// ERR_UNAVAILABLE (nothing is held for it): 2 000 pipelined `inventory` calls otherwise took the agent from 60 MB
// to 660 MB of RSS (docs/reliability.md).
export const MAX_IN_FLIGHT = 32;

/** Options of one served control connection. */
export interface ServeControlOptions {
  dispatch: Dispatch;
  log: Logger;
  maxBufferedBytes?: number;
  maxInFlight?: number; // default MAX_IN_FLIGHT
  connectionId?: string;
  peer?: ControlConnection['peer']; // remote/local addresses of the socket, handed to every call
}

// Serves the control channel on an accepted WebSocket: each text message is dispatched and answered;
// the connection survives any bad message.
export function serveControlConnection(ws: WebSocket, opts: ServeControlOptions): ControlConnection {
  const id = opts.connectionId ?? randomUUID();
  const log = opts.log.child({ conn: id });
  const limit = opts.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const closers: (() => void)[] = [];
  let closed = false;

  const write = (msg: unknown): void => {
    if (closed || ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limit) {
      log.warn({ bufferedAmount: ws.bufferedAmount, limit }, 'peer is not reading: dropping the connection');
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  };

  const conn: ControlConnection = {
    id,
    ...(opts.peer ? { peer: opts.peer } : {}),
    log,
    send: (msg: EventEnvelope) => write(msg),
    onClose: (fn) => {
      if (closed) queueMicrotask(fn);
      else closers.push(fn);
    },
  };

  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  let inFlight = 0;
  ws.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (inFlight >= maxInFlight) {
      const message = `too many requests in progress on this connection (${maxInFlight}): wait for answers before sending more`;
      write({ id: peekId(buf), error: { code: 'ERR_UNAVAILABLE', message } });
      return;
    }
    inFlight++;
    opts
      .dispatch(buf, isBinary, conn)
      .then(write, (err: unknown) => log.error({ err }, 'dispatch failed'))
      .finally(() => inFlight--);
  });
  ws.once('close', (code) => {
    closed = true;
    log.debug({ code }, 'control connection closed');
    for (const fn of closers.splice(0)) {
      try {
        fn();
      } catch (err) {
        log.error({ err }, 'onClose callback failed');
      }
    }
  });
  return conn;
}

// The request id of a raw message, read without parsing it (so a refused request can still be matched).
function peekId(buf: Buffer): string | null {
  return /"id"\s*:\s*"([^"\\]{1,64})"/.exec(buf.subarray(0, 512).toString('latin1'))?.[1] ?? null;
}
