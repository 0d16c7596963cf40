import { createServer, type Server } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AnswerBytes } from './answer-files.js';

// At most this many guest connections at once (each one is a socat that slirp's guestfwd spawned).
export const ANSWER_HTTP_MAX_CONNECTIONS = 8;

// The answer files over HTTP on a unix socket in the job directory: the guest's slirp guestfwd endpoint.
export interface AnswerHttp {
  socket: string;
  /** Requests answered so far, by path (what the guest fetched). */
  served: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Serves `files` read-only at http://<guestfwd address>/<path> (GET and HEAD; anything else 405, unknown
 * paths 404) on `socketPath`, mode 0600. Only the job's QEMU connects there: the guest reaches it through its
 * guestfwd and nothing else can (docs/reliability.md, "Attack classes").
 */
export async function serveAnswerFiles(files: AnswerBytes[], socketPath: string, log?: Logger): Promise<AnswerHttp> {
  const byPath = new Map(files.map((f) => [f.path, f.data]));
  const served = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = pathOf(req.url ?? '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 }).end();
      return;
    }
    const data = path === undefined ? undefined : byPath.get(path);
    log?.info({ path, method: req.method, status: data ? 200 : 404 }, 'answer file requested by the guest');
    if (!data || path === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 }).end('not found\n');
      return;
    }
    served.set(path, (served.get(path) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  server.maxConnections = ANSWER_HTTP_MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 2_000;
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(() => rm(socketPath, { force: true })));
  return { socket: socketPath, served, close };
}

// "/dir/file?x" -> "dir/file"; undefined for anything that is not a plain relative path.
function pathOf(url: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(url.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  p = p.replace(/^\/+/, '');
  if (p === '' || p.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\0\r\n]/.test(p)) return undefined;
  return p;
}
