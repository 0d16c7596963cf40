import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchIso, type FetchIsoDeps } from '../../../agent/iso/index.js';
import { makeIso, memoryLogger, serveFile, startServer, type TestServer } from './iso-server.js';
import { xepaFailure as failure } from '../../support/error-code.js';

const SIZE = 1024 * 1024;
const iso = makeIso(SIZE);
// The ISO server is on loopback, which fetchIso refuses unless allowed.
const fast: Partial<FetchIsoDeps> = { backoffMs: () => 10, idleTimeoutMs: 5_000, retries: 2, allowLocalAddresses: true };

let dir: string;
let servers: TestServer[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-iso-'));
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

// A 1 GiB-free disk that is not RAM, as statfs reports it.
const smallDisk = { statfs: async () => ({ type: 0xef53, bsize: 4096, blocks: 1_000_000, bavail: 64 }), mounts: async () => '' };

describe('fetchIso budget', () => {
  it('refuses with ERR_NO_SPACE before any request when the announced size does not fit', async () => {
    const server = await serve(serveFile(iso.data));
    const { log } = memoryLogger();
    const err = await failure(
      fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, size: SIZE, destDir: dir }, { log, ...fast, budget: { reserveBytes: 0, ...smallDisk } }),
    );
    expect(err.code).toBe('ERR_NO_SPACE');
    expect(err.message).toMatch(/1\.0 MiB .* but only 256 KiB is free/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses with ERR_NO_SPACE from the Content-Length before writing a byte when the size was not given', async () => {
    const server = await serve(serveFile(iso.data));
    const { log } = memoryLogger();
    const err = await failure(
      fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast, budget: { reserveBytes: 0, ...smallDisk } }),
    );
    expect(err.code).toBe('ERR_NO_SPACE');
    expect(server.requests).toHaveLength(1);
    expect((await stat(join(dir, `${iso.sha256}.iso.part`))).size).toBe(0);
    expect(await readdir(dir)).not.toContain(`${iso.sha256}.iso`);
  });

  it('refuses with ERR_NO_MEMORY when the directory is tmpfs and the ISO would eat the VM reserve', async () => {
    const server = await serve(serveFile(iso.data));
    const { log } = memoryLogger();
    const budget = {
      reserveBytes: 1024 * 1024,
      statfs: async () => ({ type: 0x01021994, bsize: 4096, blocks: 1_000_000, bavail: 1_000_000 }),
      meminfo: async () => 'MemAvailable:    1536 kB\n',
      mounts: async () => '',
    };
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, size: SIZE, destDir: dir }, { log, ...fast, budget }));
    expect(err.code).toBe('ERR_NO_MEMORY');
    expect(server.requests).toHaveLength(0);
  });
});

describe('fetchIso redirects', () => {
  it('follows http redirects to the file', async () => {
    const file = await serve(serveFile(iso.data));
    const hop = await serve((_req, res) => res.writeHead(302, { location: `${file.url}/os.iso` }).end());
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${hop.url}/latest.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect(r.size).toBe(SIZE);
    expect(file.requests).toHaveLength(1);
  });

  it('fails with ERR_FETCH_HTTP after more than 5 redirects, without retrying', async () => {
    const loop = await serve((req, res) => res.writeHead(301, { location: `/again${req.url ?? ''}` }).end());
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${loop.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_FETCH_HTTP');
    expect(err.message).toMatch(/too many redirects/);
    expect(loop.requests).toHaveLength(6);
  });

  it('refuses a redirect to a non-http scheme with ERR_FETCH_HTTP', async () => {
    const hop = await serve((_req, res) => res.writeHead(302, { location: 'file:///etc/shadow' }).end());
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${hop.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_FETCH_HTTP');
    expect(err.message).toMatch(/unsupported scheme file:/);
  });
});

describe('fetchIso over HTTPS', () => {
  let tls: { key: string; cert: string };
  beforeAll(async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'xepa-cert-'));
    const key = join(certDir, 'key.pem');
    const cert = join(certDir, 'cert.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    tls = { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
    await rm(certDir, { recursive: true, force: true });
  });

  it('downloads from a server with a self-signed certificate trusted through tls.ca', async () => {
    const server = await serve(serveFile(iso.data, { cutAfter: (n) => (n === 1 ? 300_000 : undefined) }), tls);
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast, tls: { ca: tls.cert } });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(server.requests.filter((q) => q.range)).toHaveLength(1);
  });

  it('refuses the same server without the CA at once with ERR_CONNECT, since retrying cannot help', async () => {
    const server = await serve(serveFile(iso.data), tls);
    const { log, records } = memoryLogger();
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_CONNECT');
    expect(err.message).toMatch(/not trusted: self.signed/i);
    expect(records.filter((x) => x.msg === 'download attempt failed, retrying')).toHaveLength(0);
  });
});
