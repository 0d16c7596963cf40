import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the ISO server saw it: what the fetch really sent. */
export interface SeenIsoRequest {
  path: string; // path and query
  authorization?: string;
  range?: string;
}

/** A loopback ISO server whose first answer for `stallPath` stops half-way until the test releases it. */
export interface SecretIsoServer {
  port: number;
  requests: SeenIsoRequest[];
  halfSent: Promise<void>; // the first half of the stalled file is on the wire
  releaseCut(): void; // cut the stalled connection: the agent must resume with Range
  close(): Promise<void>;
}

// Serves `files` by path (the query is ignored for the lookup but recorded); Range `bytes=N-` is honoured.
export async function startSecretIsoServer(files: Record<string, Buffer>, stallPath: string): Promise<SecretIsoServer> {
  const requests: SeenIsoRequest[] = [];
  let halfSentResolve!: () => void;
  const halfSent = new Promise<void>((r) => (halfSentResolve = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let stalled = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    requests.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers.range ? { range: req.headers.range } : {}) });
    const name = path.split('?')[0]!;
    const body = files[name];
    if (!body) return void res.writeHead(404).end();
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const headers = { 'content-length': String(body.length - from), etag: '"v1"', 'accept-ranges': 'bytes' };
    if (from > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (name === stallPath && !stalled) {
      stalled = true;
      const half = body.subarray(0, body.length >> 1);
      res.write(half, () => halfSentResolve());
      void released.then(() => res.destroy());
      return;
    }
    res.end(body.subarray(from));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    halfSent,
    releaseCut: () => release(),
    close: () =>
      new Promise<void>((r) => {
        release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
