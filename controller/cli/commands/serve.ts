import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir, loadControllerKey } from '../../auth/index.js';
import { registryPath } from '../../registry/index.js';
import { createRescueMount, rescuePath } from '../../rescue/index.js';
import { startVendorMount } from '../../vendor/index.js';
import { startWebConsoleMount, mintLoginLink } from '../../web/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { resolvePin } from '../session.js';
import { findAgentBundle } from './inject.js';

/** One thing `xepa serve` hosts on the shared HTTP(S) server; handlers say true when they took the request. */
export interface ServeMount {
  name: string;
  request?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean | Promise<boolean>;
  close?: () => void | Promise<void>;
}

/** A listening `xepa serve`. */
export interface RunningServe {
  url: string; // http(s)://host:port
  add(mount: ServeMount): void;
  close(): Promise<void>;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

// Parses --listen HOST:PORT ([v6]:PORT allowed).
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new XepaError('ERR_BAD_REQUEST', `--listen wants HOST:PORT, got ${text}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

// Starts ONE HTTP(S) server and hands each request and upgrade to the mounts in order (first taker wins);
// nobody takes it -> 404. Plain HTTP is refused off loopback: session cookies must not cross a network in clear.
export async function startServe(o: { host: string; port: number; tls?: { cert: string; key: string }; log?: Logger; allowPlainHttp?: boolean }): Promise<RunningServe> {
  // allowPlainHttp: only Vendor Services is mounted (no cookies; files carry their digest; iPXE speaks HTTP)
  if (!o.tls && !isLoopback(o.host) && !o.allowPlainHttp) {
    throw new XepaError('ERR_CONFIG', `serving on ${o.host} needs TLS (--tls-cert and --tls-key); plain HTTP is for loopback only`);
  }
  const mounts: ServeMount[] = [];
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      for (const m of mounts) if (m.request && (await m.request(req, res))) return;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 'ERR_NOT_FOUND', message: `no such endpoint: ${req.url}` }));
    } catch (err) {
      o.log?.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 'ERR_INTERNAL', message: 'internal error' }));
      else res.destroy();
    }
  };
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on('error', () => socket.destroy());
    try {
      for (const m of mounts) if (m.upgrade && (await m.upgrade(req, socket, head))) return;
    } catch (err) {
      o.log?.error({ err, url: req.url }, 'upgrade failed');
    }
    if (!socket.destroyed) socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => void onRequest(req, res);
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, handler) : createHttpServer(handler);
  server.headersTimeout = 15_000;
  server.requestTimeout = 0; // event streams stay open
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => (sockets.add(s), s.once('close', () => sockets.delete(s))));
  server.on('upgrade', (req, socket, head) => void onUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new XepaError('ERR_CONFIG', `cannot listen on ${o.host}:${o.port}: ${err.message}`, { cause: err })));
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = isIP(o.host) === 6 ? `[${o.host}]` : o.host;
  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${port}`,
    add: (m) => void mounts.push(m),
    close: async () => {
      for (const m of mounts) await m.close?.();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

// The rescue-boot endpoints (/vendor/v1/rescue/: per-host iPXE script and apkovl, enrolment), mounted with Vendor
// Services; they need the controller's key (its public half goes into every apkovl).
async function rescueMount(keyDir: string, publicUrl: string, log: Logger): Promise<ServeMount> {
  const key = await loadControllerKey(keyDir).catch(() => undefined);
  if (!key) {
    log.info({ keyDir }, 'rescue boot not served: no controller key here (xepa keygen)');
    return { name: 'rescue' };
  }
  log.info({ hosts: rescuePath(keyDir) }, 'rescue boot served at /vendor/v1/rescue/');
  return createRescueMount({
    rescueFile: rescuePath(keyDir),
    registryFile: registryPath(keyDir),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    controllerPublicKey: key.publicKeyBase64,
    agentBundle: () => readFile(findAgentBundle(undefined)),
    log,
  });
}

export const SERVE_USAGE = `usage: xepa serve [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE] [--public-url URL]
                  [--agent HOST --fingerprint FP] [--print-login [--view-only]] [--key-dir DIR]
       xepa serve login [--url URL] [--view-only] [--ttl SECONDS] [--key-dir DIR]
Hosts the web console of one agent (--agent): noVNC screen, serial log, job progress, power and media buttons.
Browsers log in with a one-time link (--print-login, or "xepa serve login" for a running console) and then hold
only a session cookie; the console proxies to the agent with short-lived tokens. Plain HTTP on loopback only.
Vendor Services (/vendor/v1/: catalog, release files, iPXE scripts; docs/vendor-services.md) and the rescue boot of
hosts registered with "xepa rescue add" (/vendor/v1/rescue/; docs/injection.md) are mounted when
--store or --vendor-config is given, or when there is no --agent; serving only them, plain HTTP is allowed anywhere.`;

const OPTIONS = {
  listen: { type: 'string', default: '127.0.0.1:8080' },
  store: { type: 'string' },
  'vendor-config': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'public-url': { type: 'string' },
  url: { type: 'string' },
  agent: { type: 'string' },
  fingerprint: { type: 'string' },
  'key-dir': { type: 'string' },
  'print-login': { type: 'boolean', default: false },
  'view-only': { type: 'boolean', default: false },
  ttl: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

// `xepa serve`: host the web console (and the other mounts) until SIGINT/SIGTERM; `xepa serve login` mints a link.
export async function serveCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return line(o.out, SERVE_USAGE), 0;
  const keyDir = values['key-dir'] ?? defaultControllerDir();
  const role = values['view-only'] ? 'view' : 'control';
  if (positionals[0] === 'login') {
    const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 10 || ttl > 3600)) throw new XepaError('ERR_BAD_REQUEST', '--ttl must be 10..3600 seconds');
    const key = await loadControllerKey(keyDir);
    line(o.out, mintLoginLink(key.privateKey, { url: values.url ?? values['public-url'] ?? `http://${values.listen}`, role, ...(ttl ? { ttlSeconds: ttl } : {}) }));
    return 0;
  }
  if (positionals.length > 0) throw new XepaError('ERR_BAD_REQUEST', `unexpected ${positionals.join(' ')}\n${SERVE_USAGE}`);
  const vendor = !values.agent || values.store !== undefined || values['vendor-config'] !== undefined;
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new XepaError('ERR_BAD_REQUEST', '--tls-cert and --tls-key go together');
  const tls = values['tls-cert'] && values['tls-key'] ? { cert: await readFile(values['tls-cert'], 'utf8'), key: await readFile(values['tls-key'], 'utf8') } : undefined;
  const log = pino({ base: { app: 'xepa-serve' }, redact: ['req.headers.cookie', 'req.headers.authorization', '*.token'] }, o.err);
  const serve = await startServe({ ...parseListen(values.listen), ...(tls ? { tls } : {}), log, allowPlainHttp: !values.agent });
  try {
    // Vendor Services (/vendor/v1/): catalog, release files, iPXE scripts, per-host configs.
    if (vendor) {
      serve.add(await rescueMount(keyDir, values['public-url'] ?? serve.url, log));
      serve.add(await startVendorMount({ storeDir: values.store, configPath: values['vendor-config'], publicUrl: values['public-url'], log }));
      log.info({ url: `${serve.url}/vendor/v1/catalog` }, 'vendor catalog listening');
    }
    // The web console (/, /login, /logout, /assets/, /api/, /ws/) for the agent given with --agent.
    if (values.agent) {
      const pin = await resolvePin(values.agent, values.fingerprint, registryPath(keyDir), (t) => log.info(t));
      const web = await startWebConsoleMount({
        agentUrl: pin.url,
        fingerprint: pin.fingerprint,
        key: await loadControllerKey(keyDir),
        publicUrl: values['public-url'] ?? serve.url,
        secure: tls !== undefined,
        log,
      });
      serve.add(web);
      log.info({ url: `${web.origin}/`, agentId: web.agentId }, 'web console listening');
      if (values['print-login']) line(o.out, web.loginLink(role));
    }
  } catch (err) {
    await serve.close();
    throw err;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await serve.close();
  return 0;
}
