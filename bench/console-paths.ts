import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { KeyObject } from 'node:crypto';
import { signToken } from '../agent/protocol/index.js';
import { openAgentStream } from '../controller/console/index.js';
import { socketLink, wsLink, type BlastLink } from './console-blast.js';
import { socketTransport, wsTransport, type RfbTransport } from './console-rfb-client.js';

// The three ways the console benchmark reaches QEMU's VNC (and the blast upstream), compared in the same run:
// the XEPA agent's /v1/vnc (TLS, token), websockify (TLS, same certificate) and QEMU's socket directly.

/** Which upstream a connection goes to. */
export type Upstream = 'vm' | 'blast';

/** One way to QEMU: how to open a connection, and which process proxies it (for its CPU). */
export interface ConsolePath {
  name: 'xepa' | 'websockify' | 'direct';
  proxyPid?(up: Upstream): number; // the process tree whose CPU is the proxy's (none for direct)
  // Opens a connection to an upstream; `mask` applies to WebSocket paths (the client's frame masking key).
  open(up: Upstream, mask?: 'zero' | 'random'): Promise<{ rfb: () => RfbTransport; blast: () => BlastLink }>;
}

/** Where the XEPA proxy role listens and what it trusts. */
export interface XepaEndpoint {
  port: number;
  fingerprint: string;
  agentId: string;
  privateKey: KeyObject;
  pid: number;
}

// The XEPA console proxy: /v1/vnc?job=vm|blast with a fresh vnc token per connection.
export function xepaPath(e: XepaEndpoint): ConsolePath {
  return {
    name: 'xepa',
    proxyPid: () => e.pid,
    open: async (up, mask = 'zero') => {
      const token = signToken(e.privateKey, { aud: e.agentId, scope: ['vnc'], ttlSeconds: 60 });
      const ws = await openAgentStream({ url: `wss://127.0.0.1:${e.port}`, fingerprint: e.fingerprint, token, path: '/v1/vnc', query: { job: up }, pingIntervalMs: 0, mask });
      return { rfb: () => wsTransport(ws), blast: () => wsLink(ws) };
    },
  };
}

/** A running websockify per upstream. */
export interface Websockify {
  path: ConsolePath;
  stop(): Promise<void>;
}

// websockify (Debian package) over TLS with the agent's certificate, one instance per upstream unix socket.
export async function startWebsockify(o: { cert: string; key: string; fingerprint: string; targets: Record<Upstream, string> }): Promise<Websockify> {
  const procs: { up: Upstream; port: number; child: ChildProcess }[] = [];
  for (const up of ['vm', 'blast'] as const) {
    const port = await freePort();
    const child = spawn('websockify', ['--cert', o.cert, '--key', o.key, '--ssl-only', `--unix-target=${o.targets[up]}`, `127.0.0.1:${port}`], { stdio: 'ignore' });
    procs.push({ up, port, child });
    await untilListening(port, child);
  }
  const of = (up: Upstream) => procs.find((p) => p.up === up)!;
  return {
    path: {
      name: 'websockify',
      proxyPid: (up) => of(up).child.pid!,
      open: async (up, mask = 'zero') => {
        const ws = await openAgentStream({ url: `wss://127.0.0.1:${of(up).port}`, fingerprint: o.fingerprint, token: 'websockify-ignores-it', path: '/', pingIntervalMs: 0, mask });
        return { rfb: () => wsTransport(ws), blast: () => wsLink(ws) };
      },
    },
    stop: async () => {
      for (const p of procs) {
        if (p.child.exitCode !== null) continue;
        p.child.kill('SIGTERM');
        await new Promise((r) => p.child.once('exit', r));
      }
    },
  };
}

// QEMU's own unix socket (and the blast server's): no proxy at all.
export function directPath(targets: Record<Upstream, string>): ConsolePath {
  return {
    name: 'direct',
    open: async (up) => {
      const s = net.connect(targets[up]);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      return { rfb: () => socketTransport(s), blast: () => socketLink(s) };
    },
  };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function untilListening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`websockify exited (${child.exitCode}) before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`websockify did not listen on ${port}`);
}
