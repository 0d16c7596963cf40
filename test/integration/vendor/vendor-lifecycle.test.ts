import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_MARKER, initramfsPrinting, sha256, sha256sums } from './fake-releases.js';
import { publishTalos } from './fake-upstream.js';
import { makeVendorEnv, type VendorEnv } from './vendor-env.js';

// The updater for real: a fake upstream on loopback, downloads verified against published checksums, validation in
// QEMU (TCG): kernel+initrd boots to a serial marker; the generic ISO installs onto a scratch disk that then boots.
describe('the vendor updater against a fake upstream', () => {
  let env: VendorEnv;
  let kernel: Buffer;
  const good = initramfsPrinting(BOOT_MARKER);
  const publishGood = (tag: string): void => publishTalos(env.up, tag, kernel, good, sha256sums({ 'vmlinuz-amd64': kernel, 'initramfs-amd64.xz': good }));

  beforeAll(async () => {
    env = await makeVendorEnv('xepa-vendor-life-');
    kernel = readFileSync(env.iso.kernel);
  });
  afterAll(async () => {
    await env?.up.close();
    if (env) rmSync(env.work, { recursive: true, force: true });
  });

  it('takes a new release in as a candidate, boots it to its marker, and only then promotes it to stable', async () => {
    publishGood('v1.0.0');
    const r = await env.vendor(['update', 'talos']);
    expect(r.err).toMatch(/\[talos v1\.0\.0\] verify: v1\.0\.0 stored as candidate/);
    expect(r.err).toMatch(/\[talos v1\.0\.0\] validate: validating: kernel-boot/);
    expect(r.out).toMatch(/talos\s+v1\.0\.0\s+promoted\s+v1\.0\.0/);
    expect(r.code).toBe(0);
    const idx = await env.store.readIndex('talos');
    expect(idx.stable).toBe('v1.0.0');
    const rel = idx.releases[0]!;
    expect(rel.validation).toMatchObject({ status: 'passed', kind: 'kernel-boot' });
    expect(rel.validation?.reason).toContain(BOOT_MARKER);
    expect(rel.files.map((f) => f.name)).toEqual(['vmlinuz-amd64', 'initramfs-amd64.xz', 'xepa-boot.iso']);
    expect(rel.files[1]).toMatchObject({ sha256: sha256(good), upstreamDigest: { algorithm: 'sha256', hex: sha256(good) } });
  });

  it('rejects a release whose file does not match the published checksum, keeps nothing of it, and does not fetch it again', async () => {
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 100] = corrupt[corrupt.length - 100]! ^ 0xff;
    publishTalos(env.up, 'v1.1.0', kernel, corrupt, sha256sums({ 'vmlinuz-amd64': kernel, 'initramfs-amd64.xz': good }));
    const r = await env.vendor(['update', 'talos']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/talos\s+v1\.1\.0\s+rejected\s+v1\.0\.0\s+ERR_FETCH_DIGEST/);
    const idx = await env.store.readIndex('talos');
    expect(idx.stable).toBe('v1.0.0');
    expect(idx.releases.find((x) => x.version === 'v1.1.0')).toMatchObject({ status: 'rejected', files: [], rejection: { code: 'ERR_FETCH_DIGEST' } });
    expect(readdirSync(join(env.storeDir, 'tmp'))).toEqual([]);
    expect(existsSync(env.store.blobs.blobPath(sha256(corrupt)))).toBe(false);
    const fetches = env.up.requests.filter((p) => p === '/download/v1.1.0/initramfs-amd64.xz').length;
    const again = await env.vendor(['update', 'talos']);
    expect(again.out).toMatch(/rejected earlier/);
    expect(env.up.requests.filter((p) => p === '/download/v1.1.0/initramfs-amd64.xz').length).toBe(fetches);
  });

  it('keeps a release whose validation fails as a candidate with the reason and the serial tail, never stable', async () => {
    const wrong = initramfsPrinting('WRONG-SYSTEM-BOOTED');
    publishTalos(env.up, 'v1.2.0', kernel, wrong, sha256sums({ 'vmlinuz-amd64': kernel, 'initramfs-amd64.xz': wrong }));
    const r = await env.vendor(['update', 'talos']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/talos\s+v1\.2\.0\s+candidate\s+v1\.0\.0\s+ERR_VALIDATION_FAILED: validation failed/);
    const idx = await env.store.readIndex('talos');
    expect(idx.stable).toBe('v1.0.0');
    const rel = idx.releases.find((x) => x.version === 'v1.2.0')!;
    expect(rel.status).toBe('candidate');
    expect(rel.validation?.status).toBe('failed');
    expect(rel.validation?.reason).toContain(`before "${BOOT_MARKER}"`);
    expect(rel.validation?.log?.join('\n')).toContain('WRONG-SYSTEM-BOOTED');
    const list = await env.vendor(['list', 'talos', '--json']);
    expect(JSON.parse(list.out).os[0].channels).toEqual({ stable: 'v1.0.0', candidate: 'v1.2.0' });
  });

  it('promotes the next good release, keeps the previous stable, and rolls back to it', async () => {
    publishGood('v1.3.0');
    const r = await env.vendor(['update', 'talos']);
    expect(r.out).toMatch(/talos\s+v1\.3\.0\s+promoted\s+v1\.3\.0/);
    let idx = await env.store.readIndex('talos');
    expect([idx.stable, idx.history[0]]).toEqual(['v1.3.0', 'v1.0.0']);

    const rb = await env.vendor(['rollback', 'talos']);
    expect(rb.code).toBe(0);
    expect(rb.out).toContain('stable rolled back from v1.3.0 to v1.0.0');
    idx = await env.store.readIndex('talos');
    expect(idx.stable).toBe('v1.0.0');
    expect(idx.releases.find((x) => x.version === 'v1.3.0')?.status).toBe('withdrawn');
    const again = await env.vendor(['update', 'talos']);
    expect(again.out).toMatch(/v1\.3\.0\s+skipped.*withdrawn/);
    const none = await env.vendor(['rollback', 'talos']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('ERR_NOT_FOUND');
    const verify = await env.vendor(['verify']);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/(\d+) of \1 stored files verified/);
  });

  it('adds the generic ISO from a checksum file, installs it in a VM, boots the installed disk, then promotes it', async () => {
    const isoBytes = readFileSync(env.iso.iso);
    env.up.files.set('/isos/xepa-test-1.iso', isoBytes);
    env.up.files.set('/isos/SHA256SUMS', sha256sums({ 'xepa-test-1.iso': isoBytes, 'other.iso': Buffer.from('x') }));
    const r = await env.vendor(['add', 'generic@test-1', '--url', `${env.up.base}/isos/xepa-test-1.iso`, '--sums-url', `${env.up.base}/isos/SHA256SUMS`]);
    expect(r.out).toMatch(/generic\s+test-1\s+promoted\s+test-1\s+install: installed in/);
    expect(r.code).toBe(0);
    const rel = (await env.store.readIndex('generic')).releases[0]!;
    expect(rel.files[0]).toMatchObject({ name: 'image.iso', sha256: env.iso.sha256 });
    expect(rel.validation?.reason).toContain(env.iso.marker);
  });

  it('rejects a generic ISO whose digest does not match what the operator gave', async () => {
    const r = await env.vendor(['add', 'generic@test-2', '--url', `${env.up.base}/isos/xepa-test-1.iso`, '--sha256', 'f'.repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/generic\s+test-2\s+rejected.*ERR_FETCH_DIGEST/);
    expect((await env.store.readIndex('generic')).stable).toBe('test-1');
  });
});
