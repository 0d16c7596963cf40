import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchIso, type FetchIsoDeps, type FetchProgress } from '../../../agent/iso/index.js';
import { urlDigest } from '../../../agent/iso/part-file.js';
import { makeIso, memoryLogger, serveFile, startServer, type TestServer } from './iso-server.js';
import { xepaFailure as failure } from '../../support/error-code.js';

const SIZE = 3 * 1024 * 1024;
const iso = makeIso(SIZE);
// The ISO server is on loopback, which fetchIso refuses unless allowed.
const fast: Partial<FetchIsoDeps> = { backoffMs: () => 10, idleTimeoutMs: 5_000, retries: 5, allowLocalAddresses: true };

let dir: string;
let server: TestServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-iso-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('fetchIso over real loopback HTTP', () => {
  it('downloads, verifies while streaming and renames to <sha256>.iso, reporting progress to the end', async () => {
    server = await startServer(serveFile(iso.data));
    const seen: FetchProgress[] = [];
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256.toUpperCase(), destDir: dir }, { log, onProgress: (p) => seen.push(p), ...fast });
    expect(r).toEqual({ path: join(dir, `${iso.sha256}.iso`), sha256: iso.sha256, size: SIZE, reused: false });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(await readdir(dir)).toEqual([`${iso.sha256}.iso`]);
    expect(seen.at(-1)).toMatchObject({ bytes: SIZE, total: SIZE });
    expect(server.requests).toHaveLength(1);
  });

  it('reuses an existing final file after re-hashing it, and replaces one that does not match', async () => {
    server = await startServer(serveFile(iso.data));
    const { log } = memoryLogger();
    const req = { url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir };
    await fetchIso(req, { log, ...fast });
    expect(await fetchIso(req, { log, ...fast })).toMatchObject({ reused: true, size: SIZE });
    expect(server.requests).toHaveLength(1);
    await writeFile(join(dir, `${iso.sha256}.iso`), 'tampered');
    expect(await fetchIso(req, { log, ...fast })).toMatchObject({ reused: false, size: SIZE });
    expect(server.requests).toHaveLength(2);
  });

  it('resumes with Range and If-Range after the connection is cut mid-file several times', async () => {
    const cuts = [700_000, 500_000, 900_000];
    server = await startServer(serveFile(iso.data, { cutAfter: (n) => cuts[n - 1] }));
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, size: SIZE, destDir: dir }, { log, ...fast });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    const ranged = server.requests.filter((q) => q.range);
    expect(server.requests).toHaveLength(4);
    expect(ranged).toHaveLength(3);
    const offsets = ranged.map((q) => Number(/bytes=(\d+)-/.exec(q.range ?? '')?.[1]));
    expect(offsets.every((o, i) => o > 0 && o > (offsets[i - 1] ?? 0))).toBe(true);
    expect(ranged.every((q) => q.ifRange === '"v1"')).toBe(true);
  });

  it('starts over correctly when the server answers a Range request with 200', async () => {
    server = await startServer(serveFile(iso.data, { ignoreRange: true, cutAfter: (n) => (n === 1 ? 1_000_000 : undefined) }));
    const { log, records } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(server.requests.map((q) => Boolean(q.range))).toEqual([false, true]);
    expect(records.some((x) => x.msg === 'starting the download over' && /ignored the Range/.test(String(x.reason)))).toBe(true);
  });

  it('starts over and logs it when the ETag changes between the cut and the resume', async () => {
    server = await startServer(serveFile(iso.data, { etag: (n) => (n === 1 ? '"v1"' : '"v2"'), cutAfter: (n) => (n === 1 ? 1_000_000 : undefined) }));
    const { log, records } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(server.requests[1]).toMatchObject({ ifRange: '"v1"' });
    expect(records.some((x) => x.msg === 'starting the download over' && /validator differs/.test(String(x.reason)))).toBe(true);
  });

  it('starts over when a server ignoring If-Range sends 206 with a new ETag', async () => {
    server = await startServer(
      serveFile(iso.data, { ignoreIfRange: true, etag: (n) => (n === 1 ? '"v1"' : '"v2"'), cutAfter: (n) => (n === 1 ? 1_000_000 : undefined) }),
    );
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(server.requests.map((q) => Boolean(q.range))).toEqual([false, true, false]);
  });

  it('deletes the download on a digest mismatch: ERR_FETCH_DIGEST and neither .iso nor .part left', async () => {
    server = await startServer(serveFile(iso.data));
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: 'ab'.repeat(32), destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_FETCH_DIGEST');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with ERR_FETCH_SIZE before writing when Content-Length contradicts the expected size', async () => {
    server = await startServer(serveFile(iso.data, { contentLength: (_n, real) => real - 10 }));
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, size: SIZE, destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_FETCH_SIZE');
    expect(server.requests).toHaveLength(1);
    expect(await readdir(dir)).not.toContain(`${iso.sha256}.iso`);
  });

  it('fails with ERR_FETCH_SIZE after the retries when the server announces more bytes than it ever sends', async () => {
    server = await startServer(serveFile(iso.data, { contentLength: (_n, real) => real + 1000 }));
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast, retries: 2 }));
    expect(err.code).toBe('ERR_FETCH_SIZE');
    expect(err.message).toMatch(/gave up after 3 attempts/);
    expect(await readdir(dir)).not.toContain(`${iso.sha256}.iso`);
  });

  it('gives up with ERR_FETCH_TIMEOUT after the retries when the server goes idle', async () => {
    // First answer stalls after 100 kB, the second after its headers, the third never answers at all.
    server = await startServer(serveFile(iso.data, { stallAfter: (n) => (n === 1 ? 100_000 : 0), hang: (n) => n === 3 }));
    const { log } = memoryLogger();
    const err = await failure(
      fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, backoffMs: () => 10, idleTimeoutMs: 200, retries: 2, allowLocalAddresses: true }),
    );
    expect(err.code).toBe('ERR_FETCH_TIMEOUT');
    expect(server.requests).toHaveLength(3);
    expect((await stat(join(dir, `${iso.sha256}.iso.part`))).size).toBe(100_000);
  });

  it('fails at once with ERR_FETCH_HTTP naming the status and URL on 404', async () => {
    server = await startServer(serveFile(iso.data, { status: () => 404 }));
    const { log } = memoryLogger();
    const err = await failure(fetchIso({ url: `${server.url}/missing.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast }));
    expect(err.code).toBe('ERR_FETCH_HTTP');
    expect(err.message).toContain('404');
    expect(err.message).toContain(`${server.url}/missing.iso`);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 503 answers with backoff and then succeeds', async () => {
    server = await startServer(serveFile(iso.data, { status: (n) => (n <= 2 ? 503 : undefined) }));
    const { log } = memoryLogger();
    const r = await fetchIso({ url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect(r.size).toBe(SIZE);
    expect(server.requests).toHaveLength(3);
  });

  it('cancels with ERR_CANCELLED, keeps the part file, and a later fetch resumes it', async () => {
    server = await startServer(serveFile(iso.data, { chunkDelayMs: 20 }));
    const { log } = memoryLogger();
    const ac = new AbortController();
    const req = { url: `${server.url}/os.iso`, sha256: iso.sha256, destDir: dir };
    const onProgress = (p: FetchProgress): void => {
      if (p.bytes >= 500_000) ac.abort();
    };
    const err = await failure(fetchIso(req, { log, ...fast, signal: ac.signal, onProgress }));
    expect(err.code).toBe('ERR_CANCELLED');
    const kept = (await stat(join(dir, `${iso.sha256}.iso.part`))).size;
    expect(kept).toBeGreaterThanOrEqual(500_000);
    const r = await fetchIso(req, { log, ...fast });
    expect(r.size).toBe(SIZE);
    expect((await readFile(r.path)).equals(iso.data)).toBe(true);
    expect(server.requests.map((q) => q.range)).toEqual([undefined, `bytes=${kept}-`]);
  });

  it('finishes a part that was already complete (416 to the resume) without downloading it again', async () => {
    server = await startServer(serveFile(iso.data));
    const part = join(dir, `${iso.sha256}.iso.part`);
    const url = `${server.url}/os.iso`;
    await writeFile(part, iso.data);
    await writeFile(`${part}.json`, JSON.stringify({ source: url, urlSha256: urlDigest(url), etag: '"v1"', total: SIZE }));
    const { log } = memoryLogger();
    const r = await fetchIso({ url, sha256: iso.sha256, destDir: dir }, { log, ...fast });
    expect(r).toMatchObject({ size: SIZE, reused: false });
    expect(server.requests.map((q) => q.range)).toEqual([`bytes=${SIZE}-`]);
    expect(await readdir(dir)).toEqual([`${iso.sha256}.iso`]);
  });
});
