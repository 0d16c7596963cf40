import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_CONTROL_MESSAGE, PROTOCOL_VERSION, XepaError } from '../protocol/index.js';
import { authenticateRequest, refuseTokenInUrl } from './auth.js';
import { createDispatcher, type Handlers } from './control.js';
import { serveControlConnection } from './control-connection.js';
import { startHeartbeat, PING_INTERVAL_MS } from './heartbeat.js';
import { refuseUpgrade, replyJson, statusForCode } from './http-reply.js';
import { IdempotencyCache } from './idempotency.js';
import { matchRoute, selectSubprotocol, type WsRoute } from './routes.js';

/** Everything the agent's HTTPS/WSS server needs. */
export interface AgentServerOptions {
  host?: string;
  port: number; // 0 picks a free port
  tls: { key: string; cert: string };
  agentId: string;
  fingerprint: string;
  trustedKeys: KeyObject[];
  handlers: Handlers;
  log: Logger;
  version: string;
  now?: () => number;
  routes?: WsRoute[]; // further WebSocket endpoints (vnc, serial, qmp, shell), after /v1/control
  allowedOrigins?: string[]; // when set, a request with an Origin header must carry one of these
  pingIntervalMs?: number; // default 20 s
  idempotency?: IdempotencyCache;
}

/** A running agent server. */
export interface AgentServer {
  port: number;
  close(): Promise<void>; // stops listening and ends every socket
}

// Starts the agent's one HTTPS server: GET /v1/health, and WebSocket routes authenticated before the upgrade.
export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const log = opts.log.child({ mod: 'api' });
  const now = opts.now ?? Date.now;
  const dispatch = createDispatcher({
    handlers: opts.handlers,
    idempotency: opts.idempotency ?? new IdempotencyCache({ now }),
  });
  const control: WsRoute = {
    path: '/v1/control',
    scope: 'control',
    maxPayload: MAX_CONTROL_MESSAGE,
    onConnection: (ws, { auth }) => {
      const conn = serveControlConnection(ws, { dispatch, log });
      conn.log.info({ jti: auth.claims.jti, iss: auth.claims.iss }, 'control connection opened');
    },
  };
  const routes = [control, ...(opts.routes ?? [])];
  const heartbeat = startHeartbeat(opts.pingIntervalMs ?? PING_INTERVAL_MS, log);
  const servers = new Map<WsRoute, WebSocketServer>(
    routes.map((r) => [
      r,
      new WebSocketServer({
        noServer: true,
        maxPayload: r.maxPayload,
        perMessageDeflate: false,
        handleProtocols: (offered) => selectSubprotocol(r, offered),
      }),
    ]),
  );
  const health = { agentId: opts.agentId, version: opts.version, protocol: PROTOCOL_VERSION, fingerprint: opts.fingerprint };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'https://agent').pathname;
    if (path === '/v1/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        replyJson(res, 405, { code: 'ERR_BAD_REQUEST', message: 'use GET' }, { Allow: 'GET, HEAD' });
      } else replyJson(res, 200, health);
      return;
    }
    if (matchRoute(routes, path)) {
      replyJson(res, 426, { code: 'ERR_BAD_REQUEST', message: `${path} is a WebSocket endpoint` }, { Upgrade: 'websocket' });
      return;
    }
    replyJson(res, 404, { code: 'ERR_NOT_FOUND', message: `no such endpoint: ${path}` });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://agent');
    const remote = req.socket.remoteAddress;
    const found = matchRoute(routes, url.pathname);
    try {
      if (!found) throw new XepaError('ERR_NOT_FOUND', `no such endpoint: ${url.pathname}`);
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        throw new XepaError('ERR_BAD_REQUEST', 'only WebSocket upgrades are served');
      }
      refuseTokenInUrl(url);
      const origin = req.headers.origin;
      if (origin !== undefined && opts.allowedOrigins && !opts.allowedOrigins.includes(origin)) {
        throw new XepaError('ERR_FORBIDDEN', `origin ${origin} is not allowed`);
      }
      const auth = authenticateRequest(req, {
        keys: opts.trustedKeys,
        audience: opts.agentId,
        scope: found.route.scope,
        now: now(),
      });
      const wss = servers.get(found.route) as WebSocketServer;
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        heartbeat.watch(ws);
        found.route.onConnection(ws, { req, auth, match: found.match });
      });
    } catch (err) {
      const e = err instanceof XepaError ? err : new XepaError('ERR_INTERNAL', 'upgrade failed', { cause: err });
      if (e.code === 'ERR_INTERNAL') log.error({ err, path: url.pathname }, 'upgrade failed');
      else log.info({ path: url.pathname, code: e.code, remote, reason: e.message }, 'upgrade refused');
      refuseUpgrade(socket, statusForCode(e.code), e.code, e.message);
    }
  };

  const server = createServer({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' }, onRequest);
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', onUpgrade);
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, fingerprint: opts.fingerprint }, 'agent API listening');

  return {
    port,
    close: async () => {
      heartbeat.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const wss of servers.values()) {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
      }
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
