// `xepa install --os NAME@CHANNEL|VERSION`: finds the ISO an agent install boots, with its URL and digest, through a
// catalog server (--catalog URL) or a local store (served on loopback for the duration of the install).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XepaError } from '../../../agent/protocol/index.js';
import { openVendor } from '../context.js';
import { OS_NAME, VERSION, isChannel, isSafeName } from '../os/names.js';
import { createVendorHandler } from '../server/handler.js';
import { fetchText, type FetchFn } from '../upstream/http.js';
import { CatalogOs, type CatalogRelease } from './schema.js';

// What the agent is given, and how to stop serving it (a local store's server) when the install ends.
export interface ResolvedIso {
  os: string;
  version: string;
  url: string;
  sha256: string;
  size: number;
  close(): Promise<void>;
}

// Splits `talos@stable`, `generic@my-iso-1`, `talos` (= stable).
export function parseOsSpec(spec: string): { os: string; ref: string } {
  const [os = '', ref = 'stable', ...more] = spec.split('@');
  if (more.length > 0 || !isSafeName(OS_NAME, os) || !(isChannel(ref) || isSafeName(VERSION, ref))) {
    throw new XepaError('ERR_BAD_REQUEST', `--os ${spec}: use NAME@CHANNEL or NAME@VERSION (channels: stable, candidate, previous)`);
  }
  return { os, ref };
}

// Picks the release `ref` names from a catalog entry and returns its install ISO.
export function pickInstallIso(entry: CatalogOs, ref: string): { release: CatalogRelease; iso: NonNullable<CatalogRelease['installIso']> } {
  const version = isChannel(ref) ? entry.channels[ref] : ref;
  const release = version === undefined ? undefined : entry.releases.find((r) => r.version === version && r.status !== 'rejected');
  if (!release) {
    const known = Object.entries(entry.channels).map(([c, v]) => `${c}=${v}`).join(', ') || 'none';
    throw new XepaError('ERR_NOT_FOUND', `${entry.name} has no ${isChannel(ref) ? `${ref} release` : `release ${ref}`} (channels: ${known}); run xepa vendor update ${entry.name}`);
  }
  if (!release.installIso) {
    throw new XepaError('ERR_NOT_FOUND', `${entry.name} ${release.version} has no ISO for an agent install${release.ipxe ? `; it boots by iPXE: ${release.ipxe}` : ''}`);
  }
  return { release, iso: release.installIso };
}

async function listen(server: Server, address: string): Promise<string> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!m) throw new XepaError('ERR_BAD_REQUEST', `--vendor-listen wants HOST:PORT, got ${address}`);
  const host = (m[1] ?? m[2])!;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new XepaError('ERR_CONFIG', `cannot serve the store on ${address}: ${err.message}`, { cause: err })));
    server.listen(Number(m[3]), host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

// Where to resolve from.
export interface ResolveOptions {
  catalogUrl?: string | undefined;
  storeDir?: string | undefined;
  configPath?: string | undefined;
  listen?: string | undefined; // for a local store: where to serve it (default 127.0.0.1:0)
  publicUrl?: string | undefined; // for a local store: the URL the agent reaches that server at
  fetch?: FetchFn;
}

// Resolves `spec` to an ISO URL and digest for the agent.
export async function resolveOsSpec(spec: string, o: ResolveOptions): Promise<ResolvedIso> {
  const { os, ref } = parseOsSpec(spec);
  if (o.catalogUrl) {
    const url = `${o.catalogUrl.replace(/\/+$/, '')}/vendor/v1/catalog/${os}`;
    let doc: unknown;
    try {
      doc = JSON.parse(await fetchText(url, { ...(o.fetch ? { fetch: o.fetch } : {}) }));
    } catch (err) {
      if (err instanceof XepaError && err.details?.status === 404) throw new XepaError('ERR_NOT_FOUND', `the catalog at ${o.catalogUrl} has no OS ${os}`);
      throw err;
    }
    const entry = CatalogOs.safeParse(doc);
    if (!entry.success) throw new XepaError('ERR_BAD_REQUEST', `${url} is not a catalog entry: ${entry.error.issues[0]?.message}`);
    const { release, iso } = pickInstallIso(entry.data, ref);
    return { os, version: release.version, url: iso.url, sha256: iso.sha256, size: iso.size, close: async () => {} };
  }
  const ctx = await openVendor({ storeDir: o.storeDir, configPath: o.configPath });
  const server = createServer();
  const base = await listen(server, o.listen ?? '127.0.0.1:0');
  const publicUrl = o.publicUrl ?? base; // not config.publicUrl: that names the long-running server, not this one
  const handler = createVendorHandler({ store: ctx.store, modules: ctx.loaded, publicUrl });
  server.on('request', (req, res) => void handler(req, res).then((took) => took || res.writeHead(404).end()));
  const close = (): Promise<void> => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  try {
    const entryRes = await fetch(`${base}/vendor/v1/catalog/${os}`);
    if (entryRes.status === 404) throw new XepaError('ERR_NOT_FOUND', `no OS module ${os} (the store is ${ctx.store.root})`);
    const entry = CatalogOs.parse(await entryRes.json());
    const { release, iso } = pickInstallIso(entry, ref);
    return { os, version: release.version, url: iso.url, sha256: iso.sha256, size: iso.size, close };
  } catch (err) {
    await close();
    throw err;
  }
}
