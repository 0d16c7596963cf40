import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server saw. */
export interface SeenRequest {
  range?: string;
  ifRange?: string;
}

/** What to answer one request with. */
export interface Reply {
  body: Buffer; // the whole file as the server has it now
  etag?: string;
  lastModified?: string;
  contentLength?: number; // announce this instead of the true length (a lie)
  cutAfter?: number; // destroy the connection after this many body bytes
  ignoreRange?: boolean; // answer 200 with the whole file even to a Range request
}

/** A loopback HTTP server whose every answer the test decides. */
export interface FaultServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

// Serves `reply(n)` for the n-th request (0-based), honouring `Range: bytes=N-` unless told otherwise.
export async function startFaultServer(reply: (n: number, req: IncomingMessage) => Reply): Promise<FaultServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = requests.length;
    requests.push({ ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers['if-range'] ? { ifRange: String(req.headers['if-range']) } : {}) });
    const r = reply(n, req);
    const m = r.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    if (from >= r.body.length && m) {
      res.writeHead(416, { 'Content-Range': `bytes */${r.body.length}` }).end();
      return;
    }
    const part = r.body.subarray(from);
    const headers: Record<string, string | number> = {
      'Content-Length': r.contentLength ?? part.length,
      'Accept-Ranges': 'bytes',
      ...(r.etag ? { ETag: r.etag } : {}),
      ...(r.lastModified ? { 'Last-Modified': r.lastModified } : {}),
      ...(m ? { 'Content-Range': `bytes ${from}-${r.body.length - 1}/${r.body.length}` } : {}),
    };
    res.writeHead(m ? 206 : 200, headers);
    if (r.cutAfter !== undefined) {
      res.write(part.subarray(0, r.cutAfter), () => res.socket?.destroy());
      return;
    }
    // A lie about the length: send what there is and close, whatever was announced.
    res.write(part, () => (r.contentLength !== undefined ? res.socket?.end() : res.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/os.iso`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
