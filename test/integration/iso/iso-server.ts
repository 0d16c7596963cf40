// A tiny real HTTP(S) file server for the ISO fetch integration tests: Range, If-Range and ETag like nginx,
// plus scripted misbehaviour (cuts, ignored ranges, changed validators, lies, stalls) per request number.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import pino from 'pino';

// What the server saw of one request.
export interface SeenRequest {
  n: number;
  path: string;
  range?: string | undefined;
  ifRange?: string | undefined;
}

// Per-request behaviour; `n` is 1-based.
export interface FileBehaviour {
  etag?: (n: number) => string;
  cutAfter?: (n: number) => number | undefined;
  ignoreRange?: boolean;
  ignoreIfRange?: boolean;
  contentLength?: (n: number, real: number) => number;
  status?: (n: number) => number | undefined;
  stallAfter?: (n: number) => number | undefined;
  chunkDelayMs?: number;
  // Accept the request and never answer, not even headers.
  hang?: (n: number) => boolean;
}

// A running server and what it recorded.
export interface TestServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

// Random test data and its SHA-256.
export function makeIso(size: number): { data: Buffer; sha256: string } {
  const data = randomBytes(size);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

// A pino logger that keeps every record in memory (debug and up).
export function memoryLogger(): { log: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void records.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, records };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

// Starts a server on 127.0.0.1, port 0; with `tls` it is HTTPS.
export async function startServer(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const n = requests.length + 1;
    requests.push({ n, path: req.url ?? '', range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    handler(req, res, n);
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Serves `data` with Range/If-Range support, misbehaving as `b` says.
export function serveFile(data: Buffer, b: FileBehaviour = {}): Handler {
  return (req, res, n) => {
    if (b.hang?.(n)) return;
    const status = b.status?.(n);
    if (status !== undefined) {
      res.writeHead(status, { 'content-length': '0' }).end();
      return;
    }
    const etag = b.etag?.(n) ?? '"v1"';
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const rangeOk = m && !b.ignoreRange && (b.ignoreIfRange || ifRange === undefined || ifRange === etag);
    if (rangeOk && m) start = Number(m[1]);
    if (start > data.length || (rangeOk && start === data.length)) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    const body = data.subarray(start);
    const length = b.contentLength?.(n, body.length) ?? body.length;
    const headers: http.OutgoingHttpHeaders = { etag, 'content-length': String(length), 'accept-ranges': 'bytes' };
    if (rangeOk) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    res.writeHead(rangeOk ? 206 : 200, headers);
    res.flushHeaders();
    const cut = b.cutAfter?.(n);
    const stall = b.stallAfter?.(n);
    const limit = Math.min(body.length, length, cut ?? Infinity, stall ?? Infinity);
    void sendSlowly(res, body.subarray(0, limit), b.chunkDelayMs ?? 0).then(() => {
      if (stall !== undefined) return; // hold the connection open, send nothing more
      if (cut !== undefined || limit < length) res.socket?.destroy();
      else res.end();
    });
  };
}

async function sendSlowly(res: http.ServerResponse, buf: Buffer, delayMs: number): Promise<void> {
  const step = 64 * 1024;
  for (let i = 0; i < buf.length; i += step) {
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(buf.subarray(i, i + step), () => resolve()));
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
}
