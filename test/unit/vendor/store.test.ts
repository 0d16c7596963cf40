import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isXepaError } from '../../../agent/protocol/index.js';
import { Store, verifyStore, writeFileAtomic } from '../../../controller/vendor/index.js';
import { downloadVerified, extractTarMembers } from '../../../controller/vendor/upstream/index.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function put(store: Store, data: Buffer): Promise<{ sha256: string; size: number }> {
  const w = await store.blobs.openWriter();
  await w.write(data);
  return w.commit();
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('the store', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-store-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('stores a blob under its sha256, read-only, once, and verifies it', async () => {
    const store = await new Store(join(work, 's1')).init();
    const data = Buffer.from('kernel bytes');
    const ref = await put(store, data);
    expect(ref).toEqual({ sha256: sha(data), size: data.length });
    const p = store.blobs.blobPath(ref.sha256);
    expect(p).toBe(join(work, 's1', 'blobs', 'sha256', ref.sha256.slice(0, 2), ref.sha256));
    expect(readFileSync(p)).toEqual(data);
    expect(statSync(p).mode & 0o777).toBe(0o444);
    expect(await put(store, data)).toEqual(ref);
    expect(readdirSync(join(work, 's1', 'tmp'))).toEqual([]);
    expect(await store.blobs.verify(ref.sha256, ref.size)).toEqual({ ok: true });
  });

  it('finds a damaged blob on verify, and names the release and file', async () => {
    const store = await new Store(join(work, 's2')).init();
    const ref = await put(store, Buffer.from('good content'));
    await store.writeIndex({ os: 'talos', updatedAt: 'x', history: [], releases: [{ version: 'v1', status: 'candidate', addedAt: 'x', files: [{ name: 'vmlinuz', role: 'kernel', origin: 'u', ...ref }] }] });
    expect((await verifyStore(store)).every((r) => r.ok)).toBe(true);
    const p = store.blobs.blobPath(ref.sha256);
    chmodSync(p, 0o644);
    writeFileSync(p, 'evil content');
    const results = await verifyStore(store);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ os: 'talos', version: 'v1', file: 'vmlinuz', ok: false });
    expect(results[0]?.reason).toMatch(/hashes to/);
  });

  it('reports a damaged index as ERR_STORE_CORRUPT instead of guessing', async () => {
    const store = await new Store(join(work, 's3')).init();
    writeFileSync(join(work, 's3', 'index', 'talos.json'), '{"os":"talos"');
    expect(isXepaError(await rejection(store.readIndex('talos')), 'ERR_STORE_CORRUPT')).toBe(true);
    writeFileSync(join(work, 's3', 'index', 'talos.json'), JSON.stringify({ os: 'nixos', updatedAt: 'x', releases: [], history: [] }));
    expect(isXepaError(await rejection(store.readIndex('talos')), 'ERR_STORE_CORRUPT')).toBe(true);
  });

  it('replaces a file atomically, leaving no temporary file', async () => {
    const p = join(work, 'atomic', 'f.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, 'two');
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(join(work, 'atomic'))).toEqual(['f.json']);
  });

  it('lets one writer hold the lock, and takes over a lock whose owner is dead', async () => {
    const store = await new Store(join(work, 's4')).init();
    const release = await store.lock();
    expect(isXepaError(await rejection(store.lock()), 'ERR_STORE_LOCKED')).toBe(true);
    await release();
    writeFileSync(join(work, 's4', '.lock'), '999999999\n');
    const again = await store.lock();
    await again();
  });

  it('keeps nothing of a download whose digest does not match, and stores one that does', async () => {
    const store = await new Store(join(work, 's5')).init();
    const body = Buffer.alloc(300_000, 7);
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f`;
    try {
      const err = await rejection(downloadVerified(url, { algorithm: 'sha256', hex: 'f'.repeat(64) }, store.blobs));
      expect(isXepaError(err, 'ERR_FETCH_DIGEST')).toBe(true);
      expect(readdirSync(join(work, 's5', 'tmp'))).toEqual([]);
      expect(readdirSync(join(work, 's5', 'blobs', 'sha256'))).toEqual([]);
      const ref = await downloadVerified(url, { algorithm: 'sha512', hex: createHash('sha512').update(body).digest('hex') }, store.blobs);
      expect(ref.sha256).toBe(sha(body));
    } finally {
      server.close();
    }
  });

  it('extracts named members of a .tar.gz (long names too) into blobs, and names a missing member', async () => {
    const store = await new Store(join(work, 's6')).init();
    const src = join(work, 'tarsrc');
    const long = `${'d'.repeat(120)}/file`;
    mkdirSync(join(src, 'boot'), { recursive: true });
    mkdirSync(join(src, 'd'.repeat(120)), { recursive: true });
    writeFileSync(join(src, 'boot', 'vmlinuz-lts'), Buffer.alloc(70_000, 1));
    writeFileSync(join(src, 'boot', 'empty'), '');
    writeFileSync(join(src, long), 'long');
    const tgz = join(work, 'netboot.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', src, 'boot', long]);
    const got = await extractTarMembers(tgz, ['boot/vmlinuz-lts', './boot/empty', long], store.blobs);
    expect(got.get('boot/vmlinuz-lts')).toEqual({ sha256: sha(Buffer.alloc(70_000, 1)), size: 70_000 });
    expect(got.get('boot/empty')?.size).toBe(0);
    expect(readFileSync(store.blobs.blobPath(got.get(long)!.sha256), 'utf8')).toBe('long');
    expect(isXepaError(await rejection(extractTarMembers(tgz, ['boot/nope'], store.blobs)), 'ERR_NOT_FOUND')).toBe(true);
  });
});
