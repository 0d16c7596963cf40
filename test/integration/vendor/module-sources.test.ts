import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVendorHandler, loadModules } from '../../../controller/vendor/index.js';
import { sha256 } from './fake-releases.js';
import { makeVendorEnv, type VendorEnv } from './vendor-env.js';

const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');
const blob = (tag: string): Buffer => Buffer.from(`${tag} `.repeat(2000));
const manual = { validation: { kind: 'manual' } };

// Each built-in module's upstream layout, faked on loopback (as each upstream publishes today; see the modules),
// taken in by `xepa vendor update` with validation left to a person: release found, files verified, stored.
describe('the built-in modules against fakes of their upstreams', () => {
  let env: VendorEnv;
  beforeAll(async () => {
    env = await makeVendorEnv('xepa-vendor-mods-', (base) => ({
      modules: {
        nixos: { bases: { hydra: base }, ...manual },
        flatcar: { bases: { feed: `${base}/flatcar`, files: `${base}/flatcar` }, ...manual },
        alpine: { bases: { cdn: `${base}/alpine` }, ...manual },
        freebsd: { bases: { files: `${base}/ISO-IMAGES` } },
        talos: { disabled: true },
        debian: { disabled: true },
      },
    }));
  });
  afterAll(async () => {
    await env?.up.close();
    if (env) rmSync(env.work, { recursive: true, force: true });
  });

  it('NixOS: the latest Hydra netboot build, digests from the build JSON, init= from its netboot.ipxe', async () => {
    const products = { bzImage: blob('kernel'), initrd: blob('initrd'), 'netboot.ipxe': Buffer.from('#!ipxe\nkernel bzImage init=/nix/store/aaa-nixos-system/init initrd=initrd loglevel=4 ${cmdline}\ninitrd initrd\nboot\n') };
    const buildproducts: Record<string, unknown> = {};
    Object.entries(products).forEach(([name, b], i) => {
      buildproducts[String(i + 1)] = { name, sha256hash: sha256(b), type: 'file' };
      env.up.files.set(`/build/281234/download/${i + 1}/${name}`, b);
    });
    env.up.files.set('/job/nixos/release-24.11/nixos.netboot.x86_64-linux/latest-finished', JSON.stringify({ id: 281234, buildproducts }));
    const r = await env.vendor(['update', 'nixos']);
    expect(r.out).toMatch(/nixos\s+281234\s+candidate/);
    const rel = (await env.store.readIndex('nixos')).releases[0]!;
    expect(rel.files.map((f) => f.name)).toEqual(['bzImage', 'initrd', 'netboot.ipxe', 'xepa-boot.iso']);
    const loaded = await loadModules({ overrides: { nixos: { bases: { hydra: env.up.base } } } });
    const res = await fetchIpxe(env, loaded, 'nixos', '281234');
    expect(res).toMatch(/^kernel \S+\/bzImage initrd=initrd init=\/nix\/store\/aaa-nixos-system\/init loglevel=4 console=tty0/m);
  });

  it("Flatcar: version.txt names the release, each file's .DIGESTS gives its SHA512", async () => {
    const v = '3975.2.1';
    env.up.files.set('/flatcar/current/version.txt', `FLATCAR_BUILD=3975\nFLATCAR_VERSION=${v}\n`);
    for (const [name, b] of [['flatcar_production_pxe.vmlinuz', blob('fk')], ['flatcar_production_pxe_image.cpio.gz', blob('fi')]] as const) {
      env.up.files.set(`/flatcar/${v}/${name}`, b);
      env.up.files.set(`/flatcar/${v}/${name}.DIGESTS`, `# MD5 HASH\n${'0'.repeat(32)}  ${name}\n# SHA512 HASH\n${sha512(b)}  ${name}\n`);
    }
    const r = await env.vendor(['update', 'flatcar']);
    expect(r.out).toMatch(/flatcar\s+3975\.2\.1\s+candidate/);
    const rel = (await env.store.readIndex('flatcar')).releases[0]!;
    expect(rel.files[0]?.upstreamDigest).toEqual({ algorithm: 'sha512', hex: sha512(blob('fk')) });
  });

  it('Alpine: the netboot tarball is verified by its .sha256, then vmlinuz-lts, initramfs-lts and modloop-lts come out of it', async () => {
    const src = join(env.work, 'alpine-src');
    mkdirSync(join(src, 'boot'), { recursive: true });
    for (const n of ['vmlinuz-lts', 'initramfs-lts', 'modloop-lts', 'config-lts']) writeFileSync(join(src, 'boot', n), blob(n));
    const tgz = join(env.work, 'netboot.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', src, 'boot']);
    const tar = readFileSync(tgz);
    env.up.files.set('/alpine/latest-stable/releases/x86_64/latest-releases.yaml', '---\n-\n  flavor: alpine-netboot\n  version: 3.20.3\n');
    env.up.files.set('/alpine/v3.20/releases/x86_64/alpine-netboot-3.20.3-x86_64.tar.gz', tar);
    env.up.files.set('/alpine/v3.20/releases/x86_64/alpine-netboot-3.20.3-x86_64.tar.gz.sha256', `${sha256(tar)}  alpine-netboot-3.20.3-x86_64.tar.gz\n`);
    const r = await env.vendor(['update', 'alpine']);
    expect(r.out).toMatch(/alpine\s+3\.20\.3\s+candidate/);
    const rel = (await env.store.readIndex('alpine')).releases[0]!;
    expect(rel.files.find((f) => f.name === 'modloop-lts')).toMatchObject({ sha256: sha256(blob('modloop-lts')), origin: 'archive:netboot.tar.gz!boot/modloop-lts' });
    const loaded = await loadModules({ overrides: { alpine: { bases: { cdn: `${env.up.base}/alpine` } } } });
    expect(await fetchIpxe(env, loaded, 'alpine', '3.20.3')).toMatch(/modloop=http:\/\/\S+\/vendor\/v1\/files\/alpine\/3\.20\.3\/modloop-lts/);
  });

  it('FreeBSD: the newest release in the directory listing, its ISO checked against the BSD-format CHECKSUM file', async () => {
    const iso = blob('freebsd-iso');
    env.up.files.set('/ISO-IMAGES/', '<a href="../">../</a><a href="13.4/">13.4/</a><a href="14.1/">14.1/</a>');
    env.up.files.set('/ISO-IMAGES/14.1/FreeBSD-14.1-RELEASE-amd64-disc1.iso', iso);
    env.up.files.set('/ISO-IMAGES/14.1/CHECKSUM.SHA256-FreeBSD-14.1-RELEASE-amd64', `SHA256 (FreeBSD-14.1-RELEASE-amd64-disc1.iso) = ${sha256(iso)}\nSHA256 (FreeBSD-14.1-RELEASE-amd64-memstick.img) = ${'1'.repeat(64)}\n`);
    const r = await env.vendor(['update', 'freebsd']);
    expect(r.out).toMatch(/freebsd\s+14\.1\s+candidate\s+-\s+awaiting manual validation/);
    expect((await env.store.readIndex('freebsd')).releases[0]?.files[0]).toMatchObject({ name: 'disc1.iso', sha256: sha256(iso) });
  });
});

// The iPXE script a real loopback vendor server renders for `os` `version`.
async function fetchIpxe(env: VendorEnv, loaded: Awaited<ReturnType<typeof loadModules>>, os: string, version: string): Promise<string> {
  const handler = createVendorHandler({ store: env.store, modules: loaded, publicUrl: 'http://ctl.example:8080' });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/vendor/v1/ipxe/${os}/${version}`);
    expect(res.status).toBe(200);
    return await res.text();
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
