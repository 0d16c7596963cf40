import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITRD, ISO, KERNEL, seedStore, serveStore, sha256 } from './fake-store.js';
import { rawRequest } from './raw-http.js';
import { loadModules, type Store } from '../../../controller/vendor/index.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-STORE';

describe('the vendor server', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-vsrv-'));
  let store: Store;
  let srv: Awaited<ReturnType<typeof serveStore>>;
  const get = (target: string, headers: Record<string, string> = {}, method = 'GET') => rawRequest(srv.port, target, headers, method);
  const kernelPath = '/vendor/v1/files/talos/v1.0.0/vmlinuz-amd64';

  beforeAll(async () => {
    writeFileSync(join(work, 'secret.txt'), SECRET);
    store = await seedStore(join(work, 'store'));
    srv = await serveStore(store);
  });
  afterAll(async () => {
    await srv.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves the catalog with channels, file URLs on the Host it was reached at, and digests', async () => {
    const r = await get('/vendor/v1/catalog');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    const doc = JSON.parse(r.body.toString());
    const talos = doc.os.find((o: { name: string }) => o.name === 'talos');
    expect(talos.channels).toEqual({ stable: 'v1.0.0' });
    expect(talos.releases[0].files[0]).toMatchObject({ name: 'vmlinuz-amd64', sha256: sha256(KERNEL), size: KERNEL.length, url: `${srv.base}${kernelPath}` });
    expect(talos.releases[0].ipxe).toBe(`${srv.base}/vendor/v1/ipxe/talos/v1.0.0`);
    const generic = doc.os.find((o: { name: string }) => o.name === 'generic');
    expect(generic.releases[0].installIso).toMatchObject({ name: 'image.iso', sha256: sha256(ISO), size: ISO.length });
    expect(doc.errors).toEqual([]);
  });

  it('serves a file by version with ETag, digest headers, Accept-Ranges and an immutable cache policy', async () => {
    const r = await get(kernelPath);
    expect(r.status).toBe(200);
    expect(r.body.equals(KERNEL)).toBe(true);
    expect(r.headers.etag).toBe(`"${sha256(KERNEL)}"`);
    const b64 = Buffer.from(sha256(KERNEL), 'hex').toString('base64');
    expect(r.headers['repr-digest']).toBe(`sha-256=:${b64}:`);
    expect(r.headers.digest).toBe(`sha-256=${b64}`);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-length']).toBe(String(KERNEL.length));
    expect(r.headers['cache-control']).toMatch(/immutable/);
  });

  it('serves a file by channel with the release named and a revalidate-always cache policy', async () => {
    const r = await get('/vendor/v1/files/talos/stable/initramfs-amd64.xz');
    expect(r.status).toBe(200);
    expect(r.body.equals(INITRD)).toBe(true);
    expect(r.headers['xepa-release']).toBe('talos v1.0.0');
    expect(r.headers['cache-control']).toBe('no-cache');
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await get(kernelPath, {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(KERNEL.length));
    expect(r.body.length).toBe(0);
  });

  it('serves one range as 206 with Content-Range, and a suffix range', async () => {
    const r = await get(kernelPath, { Range: 'bytes=10-19' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-19/${KERNEL.length}`);
    expect(r.body.equals(KERNEL.subarray(10, 20))).toBe(true);
    const tail = await get(kernelPath, { Range: 'bytes=-7' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(KERNEL.subarray(KERNEL.length - 7))).toBe(true);
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const r = await get(kernelPath, { Range: `bytes=${KERNEL.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${KERNEL.length}`);
  });

  it('answers several, overlapping or huge range lists with the whole file (200)', async () => {
    const many = `bytes=${Array.from({ length: 200 }, (_, i) => `${i}-${i + 50000}`).join(',')}`;
    for (const range of ['bytes=0-1,5-6', many]) {
      const r = await get(kernelPath, { Range: range });
      expect(r.status).toBe(200);
      expect(r.body.equals(KERNEL)).toBe(true);
    }
  });

  it('answers If-None-Match with 304, and honours If-Range only for the current ETag', async () => {
    const etag = `"${sha256(KERNEL)}"`;
    expect((await get(kernelPath, { 'If-None-Match': etag })).status).toBe(304);
    expect((await get(kernelPath, { Range: 'bytes=0-0', 'If-Range': etag })).status).toBe(206);
    const stale = await get(kernelPath, { Range: 'bytes=0-0', 'If-Range': '"0000"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(KERNEL.length);
  });

  it('answers 404 for an unknown OS, version, file or empty channel, with an error code', async () => {
    for (const t of ['/vendor/v1/files/nope/v1/x', '/vendor/v1/files/talos/v9.9.9/vmlinuz-amd64', '/vendor/v1/files/talos/v1.0.0/nope', '/vendor/v1/files/talos/candidate/vmlinuz-amd64', '/vendor/v1/catalog/nope', '/vendor/v1/nothing']) {
      const r = await get(t);
      expect(r.status, t).toBe(404);
      expect(JSON.parse(r.body.toString()).code).toBe('ERR_NOT_FOUND');
    }
  });

  it('refuses writes (405) and leaves other paths to other handlers', async () => {
    expect((await get(kernelPath, {}, 'POST')).status).toBe(405);
    expect((await get('/elsewhere')).body.toString()).toBe('not vendor');
  });

  it.each([
    '/vendor/v1/files/talos/stable/../../../../secret.txt',
    '/vendor/v1/files/talos/stable/..%2f..%2f..%2fsecret.txt',
    '/vendor/v1/files/talos/%2e%2e/%2e%2e/secret.txt',
    '/vendor/v1/files/talos/stable/%252e%252e%252fsecret.txt',
    '/vendor/v1/files/talos/stable/..\\..\\secret.txt',
    '/vendor/v1/files/talos/stable/%5c..%5csecret.txt',
    '/vendor/v1/files//tmp/secret.txt',
    '/vendor/v1/files/talos/stable/%00secret.txt',
    '/vendor/v1/../../secret.txt',
    '/vendor/v1/config/talos/../../secret.txt',
    '/vendor/v1/files/talos/stable/secret.txt\0',
  ])('refuses the traversal attempt %s without leaking anything', async (target) => {
    const r = await get(target);
    expect([400, 404]).toContain(r.status);
    expect(r.body.toString()).not.toContain(SECRET);
  });

  it('refuses a blob that is a symlink pointing outside the store', async () => {
    const p = store.blobs.blobPath(sha256(INITRD));
    chmodSync(dirname(p), 0o755);
    unlinkSync(p);
    symlinkSync(join(work, 'secret.txt'), p);
    try {
      const r = await get('/vendor/v1/files/talos/v1.0.0/initramfs-amd64.xz');
      expect(r.status).toBe(404);
      expect(r.body.toString()).not.toContain(SECRET);
    } finally {
      unlinkSync(p);
      writeFileSync(p, INITRD);
    }
  });

  it('refuses a blob directory that is a symlink to outside the store', async () => {
    const p = store.blobs.blobPath(sha256(ISO));
    const outside = join(work, 'outside-blobs');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, sha256(ISO)), SECRET);
    rmSync(dirname(p), { recursive: true, force: true });
    symlinkSync(outside, dirname(p));
    const r = await get('/vendor/v1/files/generic/my-iso/image.iso');
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain(SECRET);
  });

  it('refuses a per-host config that is a symlink to outside the store', async () => {
    const p = store.configPath('talos', 'node-9', 'machine.yaml');
    mkdirSync(dirname(p), { recursive: true });
    symlinkSync(join(work, 'secret.txt'), p);
    const r = await get('/vendor/v1/config/talos/node-9/machine.yaml');
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain(SECRET);
    const script = await get('/vendor/v1/ipxe/talos/stable?host=node-9');
    expect(script.body.toString()).not.toContain('talos.config=');
  });

  it('says the blob is damaged (500, ERR_STORE_CORRUPT) when its size differs from the index', async () => {
    const p = store.blobs.blobPath(sha256(KERNEL));
    chmodSync(p, 0o644);
    writeFileSync(p, KERNEL.subarray(0, 10));
    try {
      const r = await get(kernelPath);
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body.toString()).code).toBe('ERR_STORE_CORRUPT');
    } finally {
      writeFileSync(p, KERNEL);
    }
  });

  it('refuses a Host header that could inject into the scripts and URLs it renders', async () => {
    const r = await get('/vendor/v1/catalog', { Host: 'evil.example/x?y' });
    expect(r.status).toBe(400);
  });
});

describe('the vendor server with a broken module', () => {
  it('lists the broken module under errors in the catalog and keeps serving the others', async () => {
    const work = mkdtempSync(join(tmpdir(), 'xepa-vsrv-broken-'));
    const modulesDir = join(work, 'modules');
    mkdirSync(modulesDir);
    writeFileSync(join(modulesDir, 'mybsd.json'), JSON.stringify({ name: 'mybsd', title: 'x', boot: { method: 'iso', iso: 'a.iso' }, files: [] }));
    const store = await seedStore(join(work, 'store'));
    const srv = await serveStore(store, await loadModules({ dir: modulesDir }));
    try {
      const r = await rawRequest(srv.port, '/vendor/v1/catalog');
      expect(r.status).toBe(200);
      const doc = JSON.parse(r.body.toString());
      expect(doc.errors).toEqual([expect.objectContaining({ module: 'mybsd', source: join(modulesDir, 'mybsd.json') })]);
      expect(doc.os.map((o: { name: string }) => o.name)).toContain('talos');
      expect((await rawRequest(srv.port, '/vendor/v1/files/talos/stable/vmlinuz-amd64')).status).toBe(200);
      expect((await rawRequest(srv.port, '/vendor/v1/catalog/mybsd')).status).toBe(404);
    } finally {
      await srv.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
