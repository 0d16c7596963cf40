import { chmod, lstat, unlink } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import type WebSocket from 'ws';
import { XepaError, isENOENT } from '../../agent/protocol/index.js';
import { bridgeLocalSocket, type BridgeLimits } from './socket-bridge.js';

/** Where a forward listens: a TCP port (loopback by default) or a unix socket path. */
export type ForwardListen = { host?: string; port: number } | { path: string };

/** A local listener whose every connection is bridged to a fresh agent stream. */
export interface PortForward {
  address: string; // 127.0.0.1:5901, or the unix socket path
  port?: number; // the TCP port (useful with port 0)
  connections: number; // open right now
  close(): Promise<void>; // stops listening and ends every bridged connection
}

/** How to forward: where to listen and how to open one agent stream per local connection. */
export interface PortForwardOptions {
  listen: ForwardListen;
  open: () => Promise<WebSocket>; // mint a fresh token and dial (e.g. ctx.open('vnc', { path: '/v1/vnc' }))
  onEvent?: (e: { kind: 'open' | 'close'; remote: string } | { kind: 'error'; remote: string; error: Error }) => void;
  limits?: BridgeLimits;
}

// Listens locally and bridges each connection to its own agent stream, so native clients (TigerVNC, Remmina,
// vncviewer; socat, qmp-shell) use the agent's console as if it were local. TCP binds 127.0.0.1 unless told
// otherwise; a unix socket is created mode 0600 (a stale socket file is replaced, anything else refused).
export async function startPortForward(o: PortForwardOptions): Promise<PortForward> {
  const sockets = new Set<Socket>();
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (local) => {
    sockets.add(local);
    local.once('close', () => sockets.delete(local));
    const remote = 'path' in o.listen ? 'unix' : `${local.remoteAddress}:${local.remotePort}`;
    o.open().then(
      (ws) => {
        o.onEvent?.({ kind: 'open', remote });
        void bridgeLocalSocket(local, ws, o.limits).then(() => o.onEvent?.({ kind: 'close', remote }));
      },
      (err: Error) => {
        o.onEvent?.({ kind: 'error', remote, error: err });
        local.destroy();
      },
    );
  });
  if ('path' in o.listen) await removeStaleSocket(o.listen.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new XepaError('ERR_CONFIG', `cannot listen on ${describe(o.listen)}: ${err.message}`, { cause: err })));
    if ('path' in o.listen) server.listen(o.listen.path, () => resolve());
    else server.listen(o.listen.port, o.listen.host ?? '127.0.0.1', () => resolve());
  });
  if ('path' in o.listen) await chmod(o.listen.path, 0o600);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? (addr as AddressInfo).port : undefined;
  const address = 'path' in o.listen ? o.listen.path : `${o.listen.host ?? '127.0.0.1'}:${port}`;
  return {
    address,
    ...(port !== undefined ? { port } : {}),
    get connections() {
      return sockets.size;
    },
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

const describe = (l: ForwardListen): string => ('path' in l ? l.path : `${l.host ?? '127.0.0.1'}:${l.port}`);

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new XepaError('ERR_CONFIG', `${path} exists and is not a socket: refusing to replace it`);
    await unlink(path);
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
}
