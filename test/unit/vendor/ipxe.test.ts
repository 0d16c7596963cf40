import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../controller/vendor/index.js';
import { seedStore, serveStore } from './fake-store.js';
import { rawRequest } from './raw-http.js';

describe('iPXE scripts', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-ipxe-'));
  let store: Store;
  let srv: Awaited<ReturnType<typeof serveStore>>;
  beforeAll(async () => {
    store = await seedStore(join(work, 'store'));
    srv = await serveStore(store);
  });
  afterAll(async () => {
    await srv.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('pins the exact version a channel names, with kernel arguments and named initrds', async () => {
    const r = await rawRequest(srv.port, '/vendor/v1/ipxe/talos/stable');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const lines = r.body.toString().split('\n');
    expect(lines[0]).toBe('#!ipxe');
    const files = `${srv.base}/vendor/v1/files/talos/v1.0.0`;
    expect(lines).toContain(`initrd --name initramfs-amd64.xz ${files}/initramfs-amd64.xz`);
    const kernel = lines.find((l) => l.startsWith('kernel '))!;
    expect(kernel.startsWith(`kernel ${files}/vmlinuz-amd64 initrd=initramfs-amd64.xz talos.platform=metal`)).toBe(true);
    expect(kernel).not.toContain('talos.config');
    expect(lines.at(-2)).toBe('boot');
  });

  it("adds the host's machine config URL when the store holds one for that host", async () => {
    const p = store.configPath('talos', 'node-1', 'machine.yaml');
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, 'version: v1alpha1\n');
    const r = await rawRequest(srv.port, '/vendor/v1/ipxe/talos/stable?host=node-1');
    expect(r.body.toString()).toContain(`talos.config=${srv.base}/vendor/v1/config/talos/node-1/machine.yaml`);
    const cfg = await rawRequest(srv.port, '/vendor/v1/config/talos/node-1/machine.yaml');
    expect(cfg.status).toBe(200);
    expect(cfg.body.toString()).toBe('version: v1alpha1\n');
    expect(cfg.headers['cache-control']).toBe('no-store');
  });

  it('says so in the script when a host has no config, and boots without one', async () => {
    const r = await rawRequest(srv.port, '/vendor/v1/ipxe/talos/stable?host=node-2');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('# no machine.yaml stored for host node-2');
    expect(r.body.toString()).not.toContain('talos.config=');
  });

  it('has no iPXE script for an ISO OS, and no config but the one the module declares', async () => {
    expect((await rawRequest(srv.port, '/vendor/v1/ipxe/generic/stable')).status).toBe(404);
    expect((await rawRequest(srv.port, '/vendor/v1/config/talos/node-1/other.yaml')).status).toBe(404);
  });
});
