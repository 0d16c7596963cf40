import type WebSocket from 'ws';
import { XepaError, WireError, fromWireError } from '../../agent/protocol/index.js';

/** A screenshot as /v1/screendump delivers it. */
export interface FetchedScreenshot {
  png: Buffer;
  width: number;
  height: number;
}

// Reads the one screenshot a /v1/screendump stream carries: a JSON header frame, then the PNG as a binary frame.
// The agent's `{ error }` frame becomes its XepaError; a stream that ends early is ERR_CONNECT.
export function readScreenshot(ws: WebSocket, timeoutMs = 60_000): Promise<FetchedScreenshot> {
  return new Promise((resolve, reject) => {
    let header: { width: number; height: number; bytes: number } | undefined;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new XepaError('ERR_TIMEOUT', `no screenshot within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: XepaError): void => {
      clearTimeout(timer);
      ws.close();
      reject(err);
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        let msg: { error?: unknown; format?: unknown; width?: unknown; height?: unknown; bytes?: unknown };
        try {
          msg = JSON.parse(data.toString('utf8')) as typeof msg;
        } catch {
          return fail(new XepaError('ERR_PROTOCOL_VERSION', 'the agent sent a screendump header that is not JSON'));
        }
        const w = WireError.safeParse(msg.error);
        if (w.success) return fail(fromWireError(w.data));
        if (msg.format !== 'png') return fail(new XepaError('ERR_PROTOCOL_VERSION', `unexpected screendump format ${String(msg.format)}`));
        header = { width: Number(msg.width), height: Number(msg.height), bytes: Number(msg.bytes) };
        return;
      }
      if (!header) return fail(new XepaError('ERR_PROTOCOL_VERSION', 'screendump image arrived before its header'));
      if (data.length !== header.bytes) return fail(new XepaError('ERR_PROTOCOL_VERSION', `screendump is ${data.length} bytes, header said ${header.bytes}`));
      clearTimeout(timer);
      resolve({ png: data, width: header.width, height: header.height });
    });
    ws.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      reject(new XepaError('ERR_CONNECT', `screendump stream closed before the image (${code} ${reason.toString('utf8')})`));
    });
    ws.resume();
  });
}
