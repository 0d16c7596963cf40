import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../protocol/index.js';

// Answers a plain HTTP request with a JSON body.
export function replyJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(data),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(data);
}

// Refuses an upgrade request on its raw socket: a small JSON `{ code, message, details? }` response, then the
// socket is destroyed. No WebSocket ever exists for it.
export function refuseUpgrade(socket: Duplex, status: number, code: ErrorCode, message: string, details?: unknown): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(details === undefined ? { code, message } : { code, message, details });
  const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="xepa-agent"\r\n' : '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      'Cache-Control: no-store\r\n' +
      extra +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
