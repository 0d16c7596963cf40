// A fake upstream on loopback: serves whatever the test puts in `files` (by path, query ignored) and logs requests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// The running fake.
export interface FakeUpstream {
  base: string;
  files: Map<string, Buffer | string>;
  requests: string[];
  close(): Promise<void>;
}

// Starts the fake on 127.0.0.1 with an ephemeral port.
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const files = new Map<string, Buffer | string>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    const body = files.get(path);
    if (body === undefined || req.method !== 'GET') return void res.writeHead(404).end('not found');
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(200, { 'Content-Length': buf.length, 'Content-Type': path.endsWith('.json') || path.includes('/api/') ? 'application/json' : 'application/octet-stream' });
    res.end(buf);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    files,
    requests,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

// Publishes a Talos-shaped release (GitHub layout): assets under /download/<tag>/, the tag in /api/releases.
export function publishTalos(up: FakeUpstream, tag: string, kernel: Buffer, initramfs: Buffer, sums: string): void {
  up.files.set(`/download/${tag}/vmlinuz-amd64`, kernel);
  up.files.set(`/download/${tag}/initramfs-amd64.xz`, initramfs);
  up.files.set(`/download/${tag}/sha256sum.txt`, sums);
  const list = JSON.parse((up.files.get('/api/releases') as string | undefined) ?? '[]') as { tag_name: string }[];
  list.unshift({ tag_name: tag, prerelease: false, draft: false } as never);
  up.files.set('/api/releases', JSON.stringify(list));
}
