import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { XepaError, httpStatusOf, toWireError } from '../../agent/protocol/index.js';

// Headers on every console response: no framing, no sniffing, nothing cached, scripts and connections only from
// the console itself. Referrers only to the console itself (a URL may once have held a login token); not
// `no-referrer`, under which browsers send `Origin: null` on the page's own POSTs and the origin check fails.
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

// Sends a body with the console's security headers.
export function reply(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

// Sends JSON.
export const replyJson = (res: ServerResponse, status: number, value: unknown, extra: Record<string, string | string[]> = {}): void =>
  reply(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);

// Sends an error as `{ code, message }` with the status its code maps to.
export function replyError(res: ServerResponse, err: unknown): void {
  const w = toWireError(err);
  replyJson(res, err instanceof XepaError ? httpStatusOf(err.code) : 500, { code: w.code, message: w.message });
}

// Refuses a WebSocket upgrade with an HTTP answer (no WebSocket ever exists) and closes the socket.
export function refuseUpgrade(socket: Duplex, err: unknown): void {
  const w = toWireError(err);
  const status = err instanceof XepaError ? httpStatusOf(err.code) : 500;
  const body = JSON.stringify({ code: w.code, message: w.message });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Refused'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

// Reads a small request body (JSON or form), refusing more than `limit` bytes with ERR_BAD_REQUEST.
export function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new XepaError('ERR_BAD_REQUEST', `request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Reads a JSON body, refusing anything not sent as application/json (a cross-site form cannot send that).
export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new XepaError('ERR_BAD_REQUEST', 'send the request as application/json');
  }
  try {
    return JSON.parse(await readBody(req));
  } catch (err) {
    if (err instanceof XepaError) throw err;
    throw new XepaError('ERR_BAD_REQUEST', 'the body is not JSON');
  }
}
