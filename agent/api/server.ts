import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { HEALTH_PATH, MAX_CONTROL_MESSAGE, PROTOCOL_VERSION, XepaError, httpStatusOf, type AgentHealth, type Scope } from '../protocol/index.js';
import { authenticateRequest, refuseTokenInUrl } from './auth.js';
import { ConnectionGate, DEFAULT_LIMITS, type ServerLimits, type ServerStats } from './connection-gate.js';
import { createDispatcher, type Handlers } from './control.js';
import { serveControlConnection } from './control-connection.js';
import { startHeartbeat, PING_INTERVAL_MS } from './heartbeat.js';
import { refuseUpgrade, replyJson } from './http-reply.js';
import { IdempotencyCache } from './idempotency.js';
import { ReplayCache } from './replay-cache.js';
import { listRoutes, matchRoute, selectSubprotocol, type RouteListing, type WsRoute } from './routes.js';
import { guardSocket, guardWebSocket } from './socket-guard.js';

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
  // Browsers always send Origin on a WebSocket, other clients do not: a request with an Origin header is
  // refused unless that origin is listed here (by default none is: browsers go through the controller's console).
  allowedOrigins?: string[];
  pingIntervalMs?: number; // default 20 s
  idempotency?: IdempotencyCache;
  limits?: ServerLimits; // connections per scope, pending connections, timeouts (connection-gate.ts)
  replay?: ReplayCache; // single-use memory of console tokens (every scope but control)
  maxTokenLifetimeSeconds?: number; // tokens living longer are refused (default MAX_TOKEN_LIFETIME_SECONDS)
}

/** A running agent server. */
export interface AgentServer {
  port: number;
  stats(): ServerStats; // open WebSockets per scope, pending connections, refusals by reason
  routes(): RouteListing[]; // every WebSocket path served and the scopes that open it (listRoutes)
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
    onConnection: (ws, { auth, req }) => {
      const { remoteAddress, localAddress } = req.socket;
      const peer = { ...(remoteAddress ? { remote: remoteAddress } : {}), ...(localAddress ? { local: localAddress } : {}) };
      const conn = serveControlConnection(ws, { dispatch, log, peer });
      conn.log.info({ jti: auth.claims.jti, iss: auth.claims.iss }, 'control connection opened');
    },
  };
  const routes = [control, ...(opts.routes ?? [])];
  const gate = new ConnectionGate(opts.limits);
  const replay = opts.replay ?? new ReplayCache({ now });
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
  const health: AgentHealth = { agentId: opts.agentId, version: opts.version, protocol: PROTOCOL_VERSION, fingerprint: opts.fingerprint };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'https://agent').pathname;
    if (path === HEALTH_PATH) {
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
    const url = new URL(req.url ?? '/', 'https://agent');
    const remote = req.socket.remoteAddress;
    // http hands the socket over without its error listener: guarded here, through the handshake and after it.
    guardSocket(socket, log, { path: url.pathname, remote });
    const found = matchRoute(routes, url.pathname);
    // A refusal after authentication may carry its details (a console's "job X is fetching": the state lets the
    // client wait for the VM); before it, a caller learns only the code and message.
    let authenticated = false;
    try {
      if (!found) throw new XepaError('ERR_NOT_FOUND', `no such endpoint: ${url.pathname}`);
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        throw new XepaError('ERR_BAD_REQUEST', 'only WebSocket upgrades are served');
      }
      refuseTokenInUrl(url);
      const origin = req.headers.origin;
      if (origin !== undefined && !(opts.allowedOrigins ?? []).includes(origin)) {
        throw new XepaError('ERR_FORBIDDEN', `origin ${origin} is not allowed to connect to this agent`);
      }
      const auth = authenticateRequest(req, {
        keys: opts.trustedKeys,
        audience: opts.agentId,
        scope: found.route.scope,
        now: now(),
        ...(opts.maxTokenLifetimeSeconds !== undefined ? { maxLifetimeSeconds: opts.maxTokenLifetimeSeconds } : {}),
      });
      authenticated = true;
      found.route.check?.({ req, auth, match: found.match });
      const scopes: readonly Scope[] = typeof found.route.scope === 'string' ? [found.route.scope] : found.route.scope;
      const scope = scopes.find((s) => auth.claims.scope.includes(s)) ?? scopes[0]!;
      const release = gate.admit(scope);
      try {
        if (scope !== 'control') replay.claim(auth.claims); // console tokens are single-use
      } catch (err) {
        release();
        throw err;
      }
      gate.leavePending(req.socket);
      const wss = servers.get(found.route) as WebSocketServer;
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        // Every WebSocket, whatever its route, is guarded before the route sees it: a malformed frame closes
        // that connection with the RFC's code and never reaches the process (socket-guard.ts).
        guardWebSocket(ws, log, { path: url.pathname, scope, remote, jti: auth.claims.jti });
        ws.once('close', release);
        heartbeat.watch(ws);
        found.route.onConnection(ws, { req, auth, match: found.match });
      });
      socket.once('close', release); // the handshake may still fail (bad key): the slot is given back either way
    } catch (err) {
      const e = err instanceof XepaError ? err : new XepaError('ERR_INTERNAL', 'upgrade failed', { cause: err });
      gate.count(e.code);
      if (e.code === 'ERR_INTERNAL') log.error({ err, path: url.pathname }, 'upgrade failed');
      else log.info({ path: url.pathname, code: e.code, remote, reason: e.message }, 'upgrade refused');
      refuseUpgrade(socket, httpStatusOf(e.code), e.code, e.message, authenticated ? e.details : undefined);
    }
  };

  // Slowloris bounds: the TLS handshake, the headers (an upgrade is only headers) and a whole request each have a
  // deadline, checked every second; connections that have not upgraded share a bounded, fair pool (connection-gate.ts).
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const server = createServer(
    {
      key: opts.tls.key,
      cert: opts.tls.cert,
      minVersion: 'TLSv1.2',
      handshakeTimeout: limits.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    onRequest,
  );
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // No server.maxConnections: it drops newcomers at accept time, so a raw TCP flood would lock everyone out.
  // Admission is the gate's: unauthenticated connections share a fair pool, WebSockets have per-scope budgets.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    guardSocket(s, log, { remote: s.remoteAddress });
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    // Unauthenticated from accept (before TLS) until it upgrades; evicted if older ones must make room.
    s.once('close', gate.enterPending(s, () => s.destroy()));
  });
  server.on('secureConnection', (s: Socket) => {
    // A connection that says nothing at all never starts a request, so the header deadline never sees it:
    // an idle deadline closes it (ws clears the socket timeout once a connection has upgraded).
    s.setTimeout(limits.headersTimeoutMs, () => {
      gate.count('timeout');
      s.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) gate.count('timeout');
    else if (err.code?.startsWith('HPE_')) gate.count('bad-http');
    if (socket.writable) socket.write(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  });
  server.on('upgrade', onUpgrade);
  server.on('tlsClientError', (err) => {
    gate.count('tls');
    log.debug({ err: err.message }, 'TLS handshake failed');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a connect flood must not overflow it, or the kernel drops a legitimate handshake too.
    server.listen({ port: opts.port, host: opts.host ?? '0.0.0.0', backlog: limits.listenBacklog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, fingerprint: opts.fingerprint }, 'agent API listening');

  return {
    port,
    stats: () => gate.stats(),
    routes: () => listRoutes(routes),
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
