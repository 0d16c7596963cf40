import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { XepaError, type Scope } from '../../agent/protocol/index.js';
import { jobParam } from './api-routes.js';
import { type ConsoleContext, requireSession, trackStream } from './context.js';
import { refuseUpgrade } from './http-reply.js';
import type { WebRole } from './login-token.js';
import type { AgentStreamTarget } from './agent-link.js';
import { agentStreamTarget } from './stream-paths.js';
import { bridgeSockets } from './ws-bridge.js';

/** What a browser WebSocket path proxies to: the agent path, the token scope per role, and the direction. */
export interface StreamTarget {
  agent: AgentStreamTarget;
  scope: Scope;
  readOnly: boolean; // browser -> agent traffic dropped
}

// Maps a browser path (/ws/vnc, /ws/serial/N) to its agent stream; undefined for paths that are not streams.
// View-only sessions get a `vnc:view` token, so the agent itself drops their keyboard and mouse.
export function streamTargetOf(pathname: string, job: string, role: WebRole): StreamTarget | undefined {
  if (pathname === '/ws/vnc') {
    return { agent: agentStreamTarget('vnc', job), scope: role === 'control' ? 'vnc' : 'vnc:view', readOnly: false };
  }
  const m = /^\/ws\/serial\/([01])$/.exec(pathname);
  if (m) return { agent: agentStreamTarget({ serial: Number(m[1]) }, job), scope: 'serial', readOnly: true };
  return undefined;
}

const isStreamPath = (p: string): boolean => p === '/ws/vnc' || /^\/ws\/serial\/\d+$/.test(p);

// Upgrade handler for /ws/*: Host, Origin (the console's own) and session are checked before any upgrade;
// then the agent stream is dialed with a fresh token of the session's scope and the two sockets are joined.
// Returns false for paths that are not the console's.
export function createUpgradeHandler(ctx: ConsoleContext): { handle(req: IncomingMessage, socket: Duplex, head: Buffer): boolean; close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
    handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false),
  });

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> => {
    ctx.origin.checkHost(req);
    ctx.origin.checkOrigin(req);
    const session = requireSession(ctx, req);
    const target = streamTargetOf(url.pathname, jobParam(url), session.role);
    if (!target) throw new XepaError('ERR_NOT_FOUND', `no such stream: ${url.pathname}`);
    const agentWs = await ctx.agent.openStream(target.agent, target.scope);
    if (socket.destroyed || !ctx.sessions.get(session.id)) {
      agentWs.close(1001);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (browserWs: WebSocket) => {
      const bridge = bridgeSockets(browserWs, agentWs, {
        readOnly: target.readOnly,
        onClose: ({ from, code }) => {
          untrack();
          ctx.log?.debug({ path: url.pathname, from, code }, 'console stream closed');
        },
      });
      const untrack = trackStream(ctx, session.id, { close: () => bridge.close(1008, 'session ended') });
      ctx.log?.info({ path: url.pathname, scope: target.scope, role: session.role }, 'console stream opened');
    });
  };

  return {
    handle: (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://console');
      if (!url.pathname.startsWith('/ws/')) return false;
      socket.on('error', () => socket.destroy());
      const refuse = (err: unknown): void => {
        ctx.log?.info({ path: url.pathname, code: err instanceof XepaError ? err.code : 'ERR_INTERNAL', reason: err instanceof Error ? err.message : String(err) }, 'console stream refused');
        refuseUpgrade(socket, err);
      };
      if (!isStreamPath(url.pathname)) refuse(new XepaError('ERR_NOT_FOUND', `no such stream: ${url.pathname}`));
      else upgrade(req, socket, head, url).catch(refuse);
      return true;
    },
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
