import type { IncomingMessage, ServerResponse } from 'node:http';
import { XepaError, isXepaError } from '../../agent/protocol/index.js';
import { type ConsoleContext, requireSession } from './context.js';
import { clearedSessionCookie, readCookie, sessionCookie, sessionCookieName } from './cookies.js';
import { httpStatusOf } from '../../agent/protocol/index.js';
import { readBody, reply } from './http-reply.js';
import { consolePage, loginPage, messagePage } from './pages.js';

const HTML = 'text/html; charset=utf-8';

function refusedPage(res: ServerResponse, err: unknown): void {
  const e = isXepaError(err) ? err : new XepaError('ERR_INTERNAL', 'internal error');
  const title = e.code === 'ERR_UNAUTHORIZED' ? 'Not logged in' : e.code === 'ERR_FORBIDDEN' ? 'Refused' : 'Error';
  reply(res, httpStatusOf(e.code), HTML, messagePage(title, e.message));
}

// GET /: the console page for a logged-in browser, else 401 with how to log in.
export function servePage(ctx: ConsoleContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    const s = requireSession(ctx, req);
    reply(res, 200, HTML, consolePage({ agentId: ctx.agent.agentId, role: s.role }));
  } catch (err) {
    refusedPage(res, err);
  }
}

// GET /login?t=TOKEN: checks the link (without using it up) and answers the page that POSTs it.
export function serveLoginPage(ctx: ConsoleContext, url: URL, res: ServerResponse): void {
  try {
    const token = url.searchParams.get('t') ?? '';
    const claims = ctx.logins.check(token);
    reply(res, 200, HTML, loginPage({ token, role: claims.role, agentId: ctx.agent.agentId }));
  } catch (err) {
    refusedPage(res, err);
  }
}

// POST /login (form field t): uses the token up, starts a session and sets its cookie, then sends the browser
// to / with a 303 so the token is in neither the address bar nor the history.
export async function login(ctx: ConsoleContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    ctx.origin.checkOrigin(req);
    const token = new URLSearchParams(await readBody(req, 4096)).get('t') ?? '';
    const claims = ctx.logins.consume(token);
    const s = ctx.sessions.create(claims.role);
    ctx.log?.info({ role: s.role, jti: claims.jti }, 'web console login');
    const maxAgeSeconds = (s.expiresAt - s.createdAt) / 1000;
    reply(res, 303, HTML, messagePage('Logged in', 'Opening the console.'), {
      Location: '/',
      'Set-Cookie': sessionCookie(s.id, { secure: ctx.secure, maxAgeSeconds }),
    });
  } catch (err) {
    ctx.log?.info({ code: isXepaError(err) ? err.code : 'ERR_INTERNAL' }, 'web console login refused');
    refusedPage(res, err);
  }
}

// POST /logout: ends the session (its streams close) and deletes the cookie.
export function logout(ctx: ConsoleContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    ctx.origin.checkOrigin(req);
  } catch (err) {
    return refusedPage(res, err);
  }
  const id = readCookie(req, sessionCookieName(ctx.secure));
  if (id) ctx.sessions.revoke(id);
  reply(res, 200, HTML, messagePage('Logged out', 'The session is over. Ask for a new login link to come back.'), {
    'Set-Cookie': clearedSessionCookie(ctx.secure),
  });
}

// GET /assets/NAME: the console's browser files (public: nothing in them is secret).
export function serveAsset(ctx: ConsoleContext, name: string, req: IncomingMessage, res: ServerResponse): void {
  const a = ctx.assets.get(name);
  if (!a) return refusedPage(res, new XepaError('ERR_NOT_FOUND', `no such file: ${name}`));
  // Revalidated on each load (no-store would refetch the 300 KB noVNC bundle on every visit).
  const headers = { ETag: a.etag, 'Cache-Control': 'no-cache' };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  reply(res, 200, a.type, a.body, headers);
}
