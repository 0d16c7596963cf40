import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { WireError, XepaError, fromWireError, type ErrorCode } from '../../agent/protocol/index.js';

const codeOfStatus = (status: number): ErrorCode =>
  status === 401 ? 'ERR_UNAUTHORIZED'
  : status === 403 ? 'ERR_FORBIDDEN'
  : status === 404 ? 'ERR_NOT_FOUND'
  : status === 400 ? 'ERR_BAD_REQUEST'
  : status === 503 ? 'ERR_UNAVAILABLE'
  : 'ERR_CONNECT';

// Turns the agent's refusal of a WebSocket upgrade (an HTTP status with a JSON `{ code, message }` body) into
// that XepaError, or one derived from the status when the body is not the agent's; closes the socket.
export function rejectOnUpgradeRefusal(ws: WebSocket, socket: Socket, what: string, reject: (err: XepaError) => void): void {
  ws.once('unexpected-response', (req, res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      req.destroy();
      socket.destroy();
      let err = new XepaError(codeOfStatus(res.statusCode ?? 0), `agent refused ${what}: HTTP ${res.statusCode}`);
      try {
        const w = WireError.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (w.success) err = fromWireError(w.data);
      } catch {
        // not JSON: keep the status-derived error
      }
      reject(err);
    });
  });
}
