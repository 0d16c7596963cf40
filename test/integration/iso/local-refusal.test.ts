import http from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchIso, type FetchIsoDeps, type HttpRequestFn } from '../../../agent/iso/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { makeIso, memoryLogger, serveFile, startServer, type TestServer } from './iso-server.js';
import { xepaFailure as failure } from '../../support/error-code.js';

// ISO URLs that reach the rescue host itself are refused unless the operator allows them (issue 11, item 6):
// against a real loopback server that must see no request at all.
const iso = makeIso(256 * 1024);
const fast: Partial<FetchIsoDeps> = { backoffMs: () => 10, idleTimeoutMs: 5_000, retries: 2 };
const PUBLIC = '192.0.2.1'; // TEST-NET-1: answered by the redirecting fake below, never dialled

let dir: string;
let server: TestServer;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-local-'));
  server = await startServer(serveFile(iso.data));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

// A `request` that routes PUBLIC to a real redirecting server on loopback (as if DNS and routing took it
// there) and does real HTTP for anything else, with the options the fetcher passes: its guarded lookup included.
const routedVia = (redirector: TestServer): HttpRequestFn => (url, options) =>
  url.hostname === PUBLIC
    ? http.request(url, { ...options, hostname: '127.0.0.1', port: Number(new URL(redirector.url).port), lookup: undefined })
    : http.request(url, options);

describe('ISO URLs to the rescue host itself', () => {
  const port = (): string => new URL(server.url).port;

  it.each([
    ['a loopback address', () => `http://127.0.0.1:${port()}/os.iso`, /loopback \(127\.0\.0\.0\/8\)/],
    ['the IPv6 loopback address', () => `http://[::1]:${port()}/os.iso`, /loopback \(::1\)/],
    ['an IPv4-mapped loopback address', () => `http://[::ffff:127.0.0.1]:${port()}/os.iso`, /loopback/],
    ['the name localhost (resolved, then refused at connect)', () => `http://localhost:${port()}/os.iso`, /localhost resolves to/],
    ['the link-local metadata address', () => 'http://169.254.169.254/latest/meta-data/', /link-local \(169\.254\.0\.0\/16\)/],
  ])('refuses %s with ERR_BAD_REQUEST naming the rule; nothing is requested or written', async (_what, url, rule) => {
    const err = await failure(fetchIso({ url: url(), sha256: iso.sha256, destDir: join(dir, 'isos') }, { log: memoryLogger().log, ...fast }));
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.message).toMatch(rule);
    expect(err.message).toContain('allowLocalIsoUrls');
    expect(server.requests).toEqual([]);
    expect((await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.iso'))).toEqual([]);
  });

  it.each([
    ['a loopback address', () => `http://127.0.0.1:${port()}/os.iso`],
    ['the name localhost', () => `http://localhost:${port()}/os.iso`],
  ])('refuses a redirect to %s, and the loopback server never sees a request', async (_what, to) => {
    const redirector = await startServer((_req, res) => res.writeHead(302, { location: to() }).end());
    try {
      const deps = { log: memoryLogger().log, ...fast, request: routedVia(redirector) };
      const err = await failure(fetchIso({ url: `http://${PUBLIC}/os.iso`, sha256: iso.sha256, destDir: dir }, deps));
      expect(err.code).toBe('ERR_BAD_REQUEST');
      expect(err.message).toMatch(/loopback|localhost resolves to/);
      expect(redirector.requests).toHaveLength(1); // the first hop was made: the refusal is the redirect's
      expect(server.requests).toEqual([]);
    } finally {
      await redirector.close();
    }
  });

  it('fetches from loopback, redirects included, when the operator allows it', async () => {
    const redirector = await startServer((_req, res) => res.writeHead(302, { location: `http://localhost:${port()}/os.iso` }).end());
    try {
      const deps = { log: memoryLogger().log, ...fast, request: routedVia(redirector), allowLocalAddresses: true };
      const r = await fetchIso({ url: `http://${PUBLIC}/os.iso`, sha256: iso.sha256, destDir: dir }, deps);
      expect(r).toMatchObject({ sha256: iso.sha256, size: iso.data.length });
      expect(server.requests).toHaveLength(1);
    } finally {
      await redirector.close();
    }
  });
});

describe('fetch errors tell nothing the caller could not read otherwise', () => {
  it('a digest mismatch does not name the digest of what was downloaded', async () => {
    const other = makeIso(1024);
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: other.sha256, destDir: dir }, { log: memoryLogger().log, ...fast, allowLocalAddresses: true }));
    expect(err.code).toBe('ERR_FETCH_DIGEST');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain(iso.sha256);
    expect(err.message).toContain(other.sha256); // the expected one, which the caller gave
  });

  it('an HTTP error does not carry the body the server sent', async () => {
    const body = `internal secret page ${Math.random()}`;
    const s = await startServer((_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end(body));
    try {
      const err = await failure(fetchIso({ url: `${s.url}/admin`, sha256: iso.sha256, destDir: dir }, { log: memoryLogger().log, ...fast, allowLocalAddresses: true }));
      expect(err.code).toBe('ERR_FETCH_HTTP');
      expect(err.message).toMatch(/HTTP 403/);
      expect(JSON.stringify({ m: err.message, d: err.details, c: String(err.cause ?? '') })).not.toContain('internal secret page');
      expect(isXepaError(err, 'ERR_FETCH_HTTP')).toBe(true);
    } finally {
      await s.close();
    }
  });
});
