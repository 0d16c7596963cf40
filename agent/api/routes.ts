import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { XepaError, type Scope } from '../protocol/index.js';
import type { Authenticated } from './auth.js';

/** What a WebSocket route receives once the upgrade has been authenticated and completed. */
export interface RouteConnection {
  req: IncomingMessage;
  auth: Authenticated;
  match: RegExpExecArray | null; // the path's match when the route's path is a RegExp (e.g. /v1/serial/(\d)$)
}

/** One WebSocket endpoint of the agent: the path, the scope its token needs and what serves it. */
export interface WsRoute {
  path: string | RegExp; // exact path, or a pattern tested against the path (anchor it)
  instances?: readonly string[]; // every concrete path a pattern serves (required with a RegExp path: listRoutes)
  scope: Scope | readonly Scope[]; // a list means any one of them (e.g. vnc or vnc:view); the route reads auth.claims.scope
  maxPayload: number; // largest message accepted from the peer, bytes
  subprotocols?: string[]; // subprotocols the server may select, in preference order; default ["xepa"]
  // Runs after authentication and before the upgrade: throw a XepaError to refuse with its HTTP status
  // (e.g. ERR_NOT_FOUND when there is no running VM), so clients get `{ code, message }` instead of a closed socket.
  check?(conn: RouteConnection): void;
  onConnection(ws: WebSocket, conn: RouteConnection): void;
}

/** One concrete path of the agent's route table, the scopes a token may carry to open it, its message limit. */
export interface RouteListing {
  path: string;
  scopes: Scope[];
  maxPayload: number;
}

// The route table as concrete paths and scopes: what the agent logs at start and what the frame fuzz test
// (test/integration/reliability/ws-frame-fuzz.test.ts) enumerates, so a new route is covered without a test
// change. Throws ERR_INTERNAL for a pattern route that does not list its instances.
export function listRoutes(routes: readonly WsRoute[]): RouteListing[] {
  return routes.flatMap((r) => {
    const scopes = typeof r.scope === 'string' ? [r.scope] : [...r.scope];
    const paths = typeof r.path === 'string' ? [r.path] : r.instances ?? [];
    if (paths.length === 0) throw new XepaError('ERR_INTERNAL', `route ${String(r.path)} lists no instances: name every path it serves`);
    for (const p of paths) {
      if (matchRoute([r], p)?.route !== r) throw new XepaError('ERR_INTERNAL', `route ${String(r.path)} does not serve its instance ${p}`);
    }
    return paths.map((path) => ({ path, scopes, maxPayload: r.maxPayload }));
  });
}

/** The found route of a path, with its match. */
export interface RouteMatch {
  route: WsRoute;
  match: RegExpExecArray | null;
}

// Finds the route serving a path (first match wins).
export function matchRoute(routes: readonly WsRoute[], pathname: string): RouteMatch | undefined {
  for (const route of routes) {
    if (typeof route.path === 'string') {
      if (route.path === pathname) return { route, match: null };
    } else {
      route.path.lastIndex = 0;
      const m = route.path.exec(pathname);
      if (m) return { route, match: m };
    }
  }
  return undefined;
}

// Chooses the subprotocol to answer with: the first one the client offered that the route accepts.
// A `bearer.<token>` entry is never selected, so the token is never echoed back.
export function selectSubprotocol(route: WsRoute, offered: Iterable<string>): string | false {
  const accepted = route.subprotocols ?? ['xepa'];
  for (const p of offered) if (accepted.includes(p)) return p;
  return false;
}
