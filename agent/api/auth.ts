import type { IncomingMessage } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { XepaError, verifyToken, type Scope, type TokenClaims } from '../protocol/index.js';

/** Where the token of an accepted request came from. */
export type TokenSource = 'header' | 'subprotocol';

/** An authenticated upgrade request. */
export interface Authenticated {
  claims: TokenClaims;
  via: TokenSource;
}

/** What the agent trusts when checking a token. */
export interface AuthOptions {
  keys: readonly KeyObject[];
  audience: string; // this agent's id
  scope: Scope | readonly Scope[]; // the scope the requested path requires (a list: any one of them)
  now?: number;
  maxLifetimeSeconds?: number; // longest token life accepted (default MAX_TOKEN_LIFETIME_SECONDS)
}

// Prefix of the subprotocol entry that carries a browser's token: `Sec-WebSocket-Protocol: xepa, bearer.<t>`.
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

const QUERY_TOKEN_KEYS = new Set(['token', 'access_token', 'bearer', 'jwt', 'auth', 'authorization']);
const JWT_LIKE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/;

// Refuses (ERR_BAD_REQUEST) a URL that carries a token in its query: URLs end up in logs and histories.
export function refuseTokenInUrl(url: URL): void {
  for (const [k, v] of url.searchParams) {
    if (QUERY_TOKEN_KEYS.has(k.toLowerCase()) || JWT_LIKE.test(v)) {
      throw new XepaError(
        'ERR_BAD_REQUEST',
        'tokens are not accepted in the URL (URLs are logged and kept in histories): send "Authorization: Bearer <token>" or "Sec-WebSocket-Protocol: xepa, bearer.<token>"',
      );
    }
  }
}

// The offered subprotocols, in order.
export function offeredSubprotocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  if (!h) return [];
  return h.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

// Finds the bearer token of a request (Authorization header first, then the subprotocol list).
// Throws ERR_UNAUTHORIZED when there is none or it is not in a recognized form.
export function extractToken(req: IncomingMessage): { token: string; via: TokenSource } {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer +([^\s]+)$/i.exec(auth.trim());
    if (!m?.[1]) throw new XepaError('ERR_UNAUTHORIZED', 'token refused: the Authorization header must be "Bearer <token>"');
    return { token: m[1], via: 'header' };
  }
  const bearers = offeredSubprotocols(req).filter((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (bearers.length > 1) throw new XepaError('ERR_UNAUTHORIZED', 'token refused: more than one bearer subprotocol');
  const sub = bearers[0]?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  if (sub) return { token: sub, via: 'subprotocol' };
  throw new XepaError('ERR_UNAUTHORIZED', 'token required: send "Authorization: Bearer <token>"');
}

// Authenticates an upgrade request for one scope. Throws ERR_UNAUTHORIZED (missing, malformed, bad
// signature, expired) or ERR_FORBIDDEN (wrong audience or scope). Never logs or echoes the token.
export function authenticateRequest(req: IncomingMessage, o: AuthOptions): Authenticated {
  const { token, via } = extractToken(req);
  const scope = typeof o.scope === 'string' ? o.scope : scopeToVerify(token, o.scope);
  const claims = verifyToken(token, {
    keys: o.keys, audience: o.audience, scope, now: o.now,
    ...(o.maxLifetimeSeconds !== undefined ? { maxLifetimeSeconds: o.maxLifetimeSeconds } : {}),
  });
  return { claims, via };
}

// Of several accepted scopes, the first one the token claims (read before verification only to choose;
// verifyToken then checks the signature and that very scope), else the first accepted one (refused there).
function scopeToVerify(token: string, accepted: readonly Scope[]): Scope {
  let claimed: unknown;
  try {
    claimed = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { scope?: unknown }).scope;
  } catch {
    claimed = undefined;
  }
  const list = Array.isArray(claimed) ? claimed : [];
  return accepted.find((s) => list.includes(s)) ?? (accepted[0] as Scope);
}
