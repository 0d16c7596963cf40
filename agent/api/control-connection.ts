import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { EventEnvelope } from '../protocol/index.js';
import type { ControlConnection, Dispatch } from './control.js';

// Largest amount of unsent data a control connection may pile up before it is dropped (a stuck reader
// must not make the agent grow its memory without limit).
export const MAX_BUFFERED_BYTES = 8 << 20;

/** Options of one served control connection. */
export interface ServeControlOptions {
  dispatch: Dispatch;
  log: Logger;
  maxBufferedBytes?: number;
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

  ws.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    opts.dispatch(buf, isBinary, conn).then(write, (err: unknown) => log.error({ err }, 'dispatch failed'));
  });
  ws.on('error', (err) => log.debug({ err }, 'control socket error'));
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
