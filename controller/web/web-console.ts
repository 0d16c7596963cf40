import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AgentPort } from './agent-link.js';
import { serveApi } from './api-routes.js';
import type { WebAssets } from './assets.js';
import { type ConsoleContext, closeStreams } from './context.js';
import { replyError } from './http-reply.js';
import { JobHub, type JobHubLimits } from './job-hub.js';
import { LoginExchange } from './login-exchange.js';
import { mintLoginToken, type WebRole } from './login-token.js';
import { ConsoleOrigin } from './origin.js';
import { login, logout, serveAsset, serveLoginPage, servePage } from './page-routes.js';
import { runConsoleQmp } from './qmp-actions.js';
import { SessionStore } from './sessions.js';
import { createUpgradeHandler } from './ws-routes.js';

/** What the web console is built from. */
export interface WebConsoleOptions {
  agent: AgentPort;
  publicUrl: string; // how browsers reach the console (its origin is checked on every upgrade and POST)
  secure: boolean; // served over TLS
  signingKey: { privateKey: KeyObject; publicKey: KeyObject }; // the controller key: signs and checks login links
  assets: WebAssets;
  log?: Logger;
  now?: () => number;
  sessionTtlMs?: number;
  maxLoginLifetimeSeconds?: number; // login links living longer are refused (default LOGIN_TOKEN_MAX_LIFETIME_SECONDS)
  hubLimits?: Partial<JobHubLimits>; // memory bounds of the job event hub (DEFAULT_JOB_HUB_LIMITS)
  qmp?: ConsoleContext['qmp']; // default: through the agent's /v1/qmp
}

/** A mounted web console: handlers for the shared HTTP(S) server, login links, and shutdown. */
export interface WebConsole {
  origin: string;
  // Serves the console's paths (/, /login, /logout, /assets/*, /api/*); false for any other path.
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  // Takes /ws/* upgrades (checked before upgrading); false for any other path.
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  // A one-time login link for this console.
  loginLink(role: WebRole, ttlSeconds?: number): string;
  close(): void;
}

const OWN = /^\/(?:$|login$|logout$|favicon\.ico$|assets\/|api\/)/;

// Builds the web console: pages and assets, one-time login links exchanged for session cookies, the job event
// stream, power/media actions and the proxied VNC/serial WebSockets, all talking to one agent.
export function createWebConsole(o: WebConsoleOptions): WebConsole {
  const now = o.now ?? Date.now;
  const origin = new ConsoleOrigin(o.publicUrl);
  const ctx: ConsoleContext = {
    agent: o.agent,
    origin,
    secure: o.secure,
    logins: new LoginExchange({
      publicKey: o.signingKey.publicKey, origin: origin.origin, now,
      ...(o.maxLoginLifetimeSeconds ? { maxLifetimeSeconds: o.maxLoginLifetimeSeconds } : {}),
    }),
    sessions: new SessionStore({ now, ...(o.sessionTtlMs ? { ttlMs: o.sessionTtlMs } : {}), onEnd: (s) => closeStreams(ctx, s.id) }),
    hub: new JobHub((job, after, onEvent) => o.agent.followJob(job, after, onEvent), o.log, o.hubLimits),
    assets: o.assets,
    streams: new Map(),
    qmp: o.qmp ?? ((job, execute, args) => runConsoleQmp(o.agent, job, execute, args)),
    log: o.log?.child({ mod: 'web' }),
  };
  const upgrades = createUpgradeHandler(ctx);
  const sweeper = setInterval(() => ctx.sessions.sweep(), 60_000);
  sweeper.unref();

  return {
    origin: origin.origin,
    handleRequest: async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://console');
      const path = url.pathname;
      if (!OWN.test(path)) return false;
      try {
        ctx.origin.checkHost(req);
      } catch (err) {
        replyError(res, err);
        return true;
      }
      const method = req.method ?? 'GET';
      if (path.startsWith('/api/')) await serveApi(ctx, path, url, req, res);
      else if (path.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) serveAsset(ctx, path.slice('/assets/'.length), req, res);
      else if (path === '/' && method === 'GET') servePage(ctx, req, res);
      else if (path === '/login' && method === 'GET') serveLoginPage(ctx, url, res);
      else if (path === '/login' && method === 'POST') await login(ctx, req, res);
      else if (path === '/logout' && method === 'POST') logout(ctx, req, res);
      else if (path === '/favicon.ico') res.writeHead(204).end(); // no icon, and no 404 in the browser console
      else {
        res.writeHead(405, { Allow: path === '/login' ? 'GET, POST' : path === '/logout' ? 'POST' : 'GET' });
        res.end();
      }
      return true;
    },
    handleUpgrade: (req, socket, head) => upgrades.handle(req, socket, head),
    loginLink: (role, ttlSeconds) => `${origin.origin}/login?t=${mintLoginToken(o.signingKey.privateKey, { origin: origin.origin, role, now: now(), ...(ttlSeconds ? { ttlSeconds } : {}) })}`,
    close: () => {
      clearInterval(sweeper);
      for (const id of [...ctx.streams.keys()]) closeStreams(ctx, id);
      upgrades.close();
    },
  };
}
