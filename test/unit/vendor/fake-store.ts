// A store seeded with one Talos release (stable) and one generic ISO, for the server tests.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Store, addCandidate, createVendorHandler, emptyIndex, loadModules, promote, type LoadedModules } from '../../../controller/vendor/index.js';

// Known file contents: the tests compare bodies byte for byte.
export const KERNEL = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
export const INITRD = Buffer.from('initramfs content');
export const ISO = Buffer.alloc(50_000, 0x41);
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function put(store: Store, data: Buffer): Promise<{ sha256: string; size: number }> {
  const w = await store.blobs.openWriter();
  await w.write(data);
  return w.commit();
}

// Seeds `root`: talos v1.0.0 (stable) with kernel+initramfs; generic my-iso (stable).
export async function seedStore(root: string): Promise<Store> {
  const store = await new Store(root).init();
  const now = new Date('2025-01-01T00:00:00Z');
  const k = await put(store, KERNEL);
  const i = await put(store, INITRD);
  let talos = addCandidate(emptyIndex('talos', now), 'v1.0.0', [
    { name: 'vmlinuz-amd64', role: 'kernel', origin: 'https://up/v1.0.0/vmlinuz-amd64', ...k },
    { name: 'initramfs-amd64.xz', role: 'initramfs', origin: 'https://up/v1.0.0/initramfs-amd64.xz', ...i },
  ], now);
  talos = promote(talos, 'v1.0.0', now);
  await store.writeIndex(talos);
  const iso = await put(store, ISO);
  await store.writeIndex(promote(addCandidate(emptyIndex('generic', now), 'my-iso', [{ name: 'image.iso', role: 'iso', origin: 'https://up/x.iso', ...iso }], now), 'my-iso', now));
  return store;
}

// A loopback HTTP server with the vendor handler alone; unhandled requests are 404 "not vendor".
export async function serveStore(store: Store, loaded?: LoadedModules): Promise<{ port: number; base: string; close(): Promise<void> }> {
  const modules = loaded ?? (await loadModules());
  const handler = createVendorHandler({ store, modules });
  const server: Server = createServer((req, res) => void handler(req, res).then((took) => took || res.writeHead(404).end('not vendor')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
