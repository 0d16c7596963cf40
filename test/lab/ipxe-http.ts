// The lab's stand-in for the controller's HTTP side of a rescue netboot: a loopback server handing out named files
// (the iPXE script, kernel, initramfs) and recording every request, so a test can say what iPXE fetched.
import { createReadStream, promises as fsp } from 'node:fs';
import { createServer, type Server } from 'node:http';

// One thing served: fixed text, or a file read at request time (it may be written after the server starts).
export type NetbootEntry = { text: string; type?: string } | { file: string };

// A request the server saw, with the status it answered and the bytes it sent.
export interface NetbootRequest {
  method: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
  userAgent: string;
}

// A running netboot server on 127.0.0.1.
export interface NetbootServer {
  port: number;
  requests: NetbootRequest[];
  close(): Promise<void>;
}

// Serves `entries` (keyed by URL path, e.g. "/boot.ipxe") on 127.0.0.1 at a free port.
export async function serveNetboot(entries: Record<string, NetbootEntry>): Promise<NetbootServer> {
  const requests: NetbootRequest[] = [];
  const server: Server = createServer((req, res) => {
    const started = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const record = (status: number, bytes: number): void => {
      requests.push({ method: req.method ?? '?', path, status, bytes, ms: Date.now() - started, userAgent: req.headers['user-agent'] ?? '' });
    };
    const entry = entries[path];
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      record(404, 0);
      return;
    }
    if ('text' in entry) {
      const body = Buffer.from(entry.text);
      res.writeHead(200, { 'content-type': entry.type ?? 'text/plain', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      record(200, body.length);
      return;
    }
    fsp.stat(entry.file).then(
      (st) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
        if (req.method === 'HEAD') return void res.end(() => record(200, 0));
        const stream = createReadStream(entry.file);
        stream.pipe(res);
        res.on('finish', () => record(200, st.size));
        res.on('close', () => { if (!res.writableFinished) record(499, 0); });
      },
      () => {
        res.writeHead(404).end();
        record(404, 0);
      },
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
