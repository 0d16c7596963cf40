import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { isXepaError } from '../protocol/index.js';
import { CLOSE, closeReason } from './limits.js';

/** How to join one WebSocket to one upstream byte stream (a QEMU unix socket). */
export interface WsBridgeOptions {
  ws: WebSocket;
  upstream: Duplex;
  log: Logger;
  highWaterBytes: number;
  lowWaterBytes: number;
  // Client-to-upstream bytes pass through this (the RFB filter); a throw closes the connection (policy).
  toUpstream?: (chunk: Buffer) => Buffer;
  // Sees upstream-to-client bytes before they are sent (the RFB filter watches the handshake).
  observeDownstream?: (chunk: Buffer) => void;
  // Says why the upstream ended, for the close frame (default: "the console closed").
  upstreamEnded?: string;
  // Gets each upstream chunk back once the WebSocket has written it (pooled read buffers, unix-connect.ts).
  recycle?: (chunk: Buffer) => void;
}

// Joins a WebSocket and an upstream stream both ways with bounded buffers: the upstream is paused while the
// WebSocket holds more than highWaterBytes unsent, and the WebSocket stops reading while the upstream's write
// buffer is full. Binary frames only. Either side ending ends the other.
export function bridgeWebSocket(o: WsBridgeOptions): void {
  const { ws, upstream, log } = o;
  let paused = false;
  let closed = false;
  const close = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    upstream.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, closeReason(reason));
  };
  const afterSend = (): void => {
    if (paused && ws.bufferedAmount <= o.lowWaterBytes) {
      paused = false;
      upstream.resume();
    }
  };

  upstream.on('data', (chunk: Buffer) => {
    o.observeDownstream?.(chunk);
    const recycle = o.recycle;
    ws.send(chunk, { binary: true }, recycle ? () => (recycle(chunk), afterSend()) : afterSend);
    if (!paused && ws.bufferedAmount > o.highWaterBytes) {
      paused = true;
      upstream.pause();
    }
  });
  upstream.on('end', () => close(CLOSE.normal, o.upstreamEnded ?? 'the console closed'));
  upstream.on('close', () => close(CLOSE.normal, o.upstreamEnded ?? 'the console closed'));
  upstream.on('error', (err) => {
    log.info({ err: err.message }, 'console upstream failed');
    close(CLOSE.internal, `console upstream failed: ${err.message}`);
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (closed) return;
    if (!isBinary) return close(CLOSE.unsupportedData, 'binary frames only');
    let out: Buffer;
    try {
      out = o.toUpstream ? o.toUpstream(data) : data;
    } catch (err) {
      log.info({ err: isXepaError(err) ? err.message : String(err) }, 'console client refused');
      return close(CLOSE.policy, isXepaError(err) ? `${err.code}: ${err.message}` : 'refused');
    }
    if (out.length === 0) return;
    if (!upstream.write(out) && !ws.isPaused) {
      ws.pause();
      upstream.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => {
    closed = true;
    upstream.destroy();
  });
}
