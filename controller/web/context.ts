import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { XepaError } from '../../agent/protocol/index.js';
import type { AgentPort } from './agent-link.js';
import type { WebAssets } from './assets.js';
import { readCookie, sessionCookieName } from './cookies.js';
import type { JobHub } from './job-hub.js';
import type { LoginExchange } from './login-exchange.js';
import type { ConsoleOrigin } from './origin.js';
import type { SessionStore, WebSession } from './sessions.js';

/** Everything the console's routes share: the agent, the origin, logins, sessions and open streams. */
export interface ConsoleContext {
  agent: AgentPort;
  origin: ConsoleOrigin;
  secure: boolean; // served over TLS: cookies get Secure and the __Host- prefix
  logins: LoginExchange;
  sessions: SessionStore;
  hub: JobHub;
  assets: WebAssets;
  streams: Map<string, Set<Closable>>; // session id -> its open streams, closed when the session ends
  // Runs one allow-listed QMP command on a job's VM through the agent's /v1/qmp.
  qmp(job: string, execute: string, args?: Record<string, unknown>): Promise<unknown>;
  log?: Logger | undefined;
}

/** Something a session holds open (a proxied WebSocket, an event stream). */
export interface Closable {
  close(): void;
}

// Remembers a stream of a session so that logging out or expiry closes it; returns the function that forgets it.
export function trackStream(ctx: ConsoleContext, sessionId: string, c: Closable): () => void {
  let set = ctx.streams.get(sessionId);
  if (!set) ctx.streams.set(sessionId, (set = new Set()));
  set.add(c);
  return () => {
    set.delete(c);
    if (set.size === 0 && ctx.streams.get(sessionId) === set) ctx.streams.delete(sessionId);
  };
}

// Closes everything a session holds open (it was revoked or expired).
export function closeStreams(ctx: ConsoleContext, sessionId: string): void {
  const set = ctx.streams.get(sessionId);
  ctx.streams.delete(sessionId);
  for (const c of set ?? []) c.close();
}

// The request's live session, or ERR_UNAUTHORIZED (no cookie, unknown, expired or logged out).
export function requireSession(ctx: ConsoleContext, req: IncomingMessage): WebSession {
  const s = ctx.sessions.get(readCookie(req, sessionCookieName(ctx.secure)));
  if (!s) throw new XepaError('ERR_UNAUTHORIZED', 'not logged in: open a one-time login link (xepa console HOST, or xepa serve login)');
  return s;
}

// The session when it may drive the guest, else ERR_FORBIDDEN (view-only sessions watch, they never act).
export function requireControl(ctx: ConsoleContext, req: IncomingMessage): WebSession {
  const s = requireSession(ctx, req);
  if (s.role !== 'control') throw new XepaError('ERR_FORBIDDEN', 'this session is view-only');
  return s;
}
