// The Vendor Services HTTP handler, mounted at /vendor/v1/ by `xepa serve`: the catalog, release files (Range, ETag,
// digests), per-host iPXE scripts and per-host configs. It reads the store only; the updater writes it.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { XepaError, isXepaError, toWireError } from '../../../agent/protocol/index.js';
import { buildCatalog } from '../catalog/build.js';
import { configUrl as configUrlOf } from '../catalog/urls.js';
import type { LoadedModules } from '../os/load.js';
import { isChannel } from '../os/names.js';
import type { OsModule } from '../os/schema.js';
import { resolveRelease, type Release, type ReleaseIndex, type Store } from '../store/index.js';
import { renderIpxeScript } from './ipxe.js';
import { VENDOR_PREFIX, parseVendorRoute, splitTarget } from './routes.js';
import { openInside } from '../store/safe-open.js';
import { sendFile } from './send-file.js';

// A request handler of `xepa serve`: true when it answered the request.
export type VendorHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

// What the handler serves from.
export interface VendorHandlerOptions {
  store: Store;
  modules: LoadedModules | (() => LoadedModules);
  publicUrl?: string | undefined; // else derived from the Host header (checked) and the connection's scheme
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  clock?: () => Date;
}

const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

// The base URL a client reached us at.
export function baseUrlOf(req: IncomingMessage, publicUrl?: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = req.headers.host ?? '';
  if (!HOST_HEADER.test(host)) throw new XepaError('ERR_BAD_REQUEST', 'a valid Host header is needed');
  const tls = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  return `${tls ? 'https' : 'http'}://${host}`;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache', ...headers });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { code, message });
}

// Builds the handler.
export function createVendorHandler(o: VendorHandlerOptions): VendorHttpHandler {
  const loaded = (): LoadedModules => (typeof o.modules === 'function' ? o.modules() : o.modules);
  const clock = o.clock ?? (() => new Date());
  const moduleOf = (os: string): OsModule => {
    const m = loaded().modules.get(os);
    if (!m) throw new XepaError('ERR_NOT_FOUND', `no OS module ${os}`);
    return m;
  };
  const releaseOf = async (os: string, ref: string): Promise<Release> => {
    const r = resolveRelease(await o.store.readIndex(os), ref);
    if (!r) throw new XepaError('ERR_NOT_FOUND', isChannel(ref) ? `${os} has no ${ref} release` : `${os} has no release ${ref}`);
    return r;
  };

  return async (req, res) => {
    const { path, query } = splitTarget(req.url ?? '/');
    if (!path.startsWith(VENDOR_PREFIX)) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        fail(res, 405, 'ERR_BAD_REQUEST', `${req.method} is not served here (GET, HEAD)`);
        return true;
      }
      const route = parseVendorRoute(path, query);
      switch (route.kind) {
        case 'bad':
          fail(res, route.status, route.status === 404 ? 'ERR_NOT_FOUND' : 'ERR_BAD_REQUEST', route.reason);
          return true;
        case 'catalog': {
          const l = loaded();
          const mods = route.os ? [moduleOf(route.os)] : [...l.modules.values()];
          const indexes = new Map<string, ReleaseIndex | Error>();
          for (const m of mods) indexes.set(m.name, await o.store.readIndex(m.name).catch((err: Error) => err));
          const doc = buildCatalog(mods, indexes, route.os ? [] : l.errors, baseUrlOf(req, o.publicUrl), clock());
          json(res, 200, route.os ? doc.os[0] ?? doc : doc);
          return true;
        }
        case 'file': {
          moduleOf(route.os);
          const r = await releaseOf(route.os, route.ref);
          const f = r.files.find((x) => x.name === route.file);
          if (!f) throw new XepaError('ERR_NOT_FOUND', `${route.os} ${r.version} has no file ${route.file}`);
          const { fh, size } = await o.store.blobs.open(f.sha256);
          if (size !== f.size) {
            await fh.close();
            o.log?.error({ os: route.os, version: r.version, file: f.name, size, expected: f.size }, 'stored blob has the wrong size');
            throw new XepaError('ERR_STORE_CORRUPT', `${route.os} ${r.version} ${f.name} is damaged in the store (run xepa vendor verify)`);
          }
          const pinned = route.ref === r.version;
          await sendFile(req, res, {
            fh, size, sha256: f.sha256,
            contentType: f.role === 'iso' || f.role === 'boot-iso' ? 'application/x-iso9660-image' : 'application/octet-stream',
            cacheControl: pinned ? 'public, max-age=31536000, immutable' : 'no-cache',
            headers: { 'Xepa-Release': `${route.os} ${r.version}` },
          });
          return true;
        }
        case 'ipxe': {
          const m = moduleOf(route.os);
          if (m.boot.method !== 'kernel-initrd') throw new XepaError('ERR_NOT_FOUND', `${m.name} boots from an ISO, not by iPXE: use its installIso from the catalog`);
          const r = await releaseOf(route.os, route.ref);
          const base = baseUrlOf(req, o.publicUrl);
          let configUrl: string | undefined;
          if (route.host && m.boot.configName) {
            const p = o.store.configPath(m.name, route.host, m.boot.configName);
            const there = await openInside(join(o.store.root, 'configs'), p).then(async (x) => (await x.fh.close(), true), () => false);
            if (there) configUrl = configUrlOf(base, m.name, route.host, m.boot.configName);
          }
          const upstreamScript = m.boot.cmdlineFromFile ? await readBlobText(o.store, r, m.boot.cmdlineFromFile) : undefined;
          const text = renderIpxeScript(m, r, { base, ref: route.ref, host: route.host, configUrl, upstreamScript });
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache', 'Xepa-Release': `${m.name} ${r.version}` });
          res.end(req.method === 'HEAD' ? undefined : text);
          return true;
        }
        case 'config': {
          const m = moduleOf(route.os);
          if (m.boot.method !== 'kernel-initrd' || route.name !== m.boot.configName) throw new XepaError('ERR_NOT_FOUND', `${m.name} has no per-host config ${route.name}`);
          const { fh, size } = await openInside(join(o.store.root, 'configs'), o.store.configPath(m.name, route.host, route.name));
          const sha256 = createHash('sha256').update(await fh.readFile()).digest('hex');
          await sendFile(req, res, { fh, size, sha256, contentType: 'application/octet-stream', cacheControl: 'no-store' });
          return true;
        }
      }
    } catch (err) {
      const w = toWireError(err);
      const status = isXepaError(err, 'ERR_NOT_FOUND') ? 404 : isXepaError(err, 'ERR_BAD_REQUEST') ? 400 : 500;
      if (status === 500) o.log?.error({ err, url: path }, 'vendor request failed');
      if (!res.headersSent) fail(res, status, w.code, status === 500 ? 'internal error (see the server log)' : w.message);
      else res.destroy();
      return true;
    }
  };
}

async function readBlobText(store: Store, r: Release, name: string): Promise<string | undefined> {
  const f = r.files.find((x) => x.name === name);
  if (!f) return undefined;
  const { fh } = await store.blobs.open(f.sha256);
  try {
    return (await fh.readFile()).toString('utf8');
  } finally {
    await fh.close();
  }
}
