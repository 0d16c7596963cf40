import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { XepaError, type JobEvent, type Scope } from '../../../agent/protocol/index.js';
import type { AgentPort } from '../../../controller/web/index.js';

/** A stream the console opened on the fake agent. */
export interface OpenedStream {
  path: string;
  scope: Scope;
  subprotocols: string[];
  ws: WebSocket; // the agent's end
  received: Buffer[];
}

// A stand-in for the agent behind the console: a plain loopback WebSocket server that records which path and
// scope each stream was opened with, greets like an RFB server and collects what the browser sent.
export async function startFakeAgent(o: { events?: JobEvent[]; refusePath?: RegExp } = {}) {
  const opened: OpenedStream[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('binary') ? 'binary' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port: wsPort } = wss.address() as AddressInfo;
  let pending: { scope: Scope; subprotocols: string[] } | undefined;
  wss.on('connection', (ws, req) => {
    const s: OpenedStream = { path: req.url ?? '', ...(pending as { scope: Scope; subprotocols: string[] }), ws, received: [] };
    opened.push(s);
    ws.on('message', (d: Buffer) => s.received.push(d));
    ws.send(Buffer.from('RFB 003.008\n'));
  });
  const followed: string[] = [];
  const agent: AgentPort = {
    agentId: 'agent-test',
    call: (async (method: string) => {
      if (method === 'job.list') return { jobs: [] };
      throw new XepaError('ERR_UNKNOWN_METHOD', method);
    }) as AgentPort['call'],
    followJob: async (job, after, onEvent) => {
      followed.push(job);
      for (const e of o.events ?? []) if (e.job === job && e.seq > after) onEvent(e);
    },
    openStream: async (t, scope) => {
      const path = `${t.path}?${new URLSearchParams(t.query).toString()}`;
      if (o.refusePath?.test(path)) throw new XepaError('ERR_NOT_FOUND', `no VM for ${path}`);
      pending = { scope, subprotocols: t.subprotocols ?? [] };
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}${path}`, t.subprotocols ?? []);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => {
          ws.pause(); // as the real dialer: handed over paused
          resolve();
        });
        ws.once('error', reject);
      });
      return ws;
    },
    close: () => undefined,
  };
  return { agent, opened, followed, close: () => new Promise<void>((r) => wss.close(() => r())) };
}

/** An HTTP answer, body as text. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

// One HTTP request to a loopback server (headers such as Origin set freely, as any non-browser client can).
export function httpRequest(port: number, method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

// Opens a WebSocket to the console; resolves with the socket and every message it receives (collected from the
// start, so a greeting sent at once is not missed), or with the refused upgrade's status and body.
export function openWs(port: number, path: string, headers: Record<string, string>, protocols: string[] = ['binary']): Promise<{ ws?: WebSocket; received: Buffer[]; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers });
    const received: Buffer[] = [];
    ws.on('message', (d: Buffer) => received.push(d));
    ws.once('open', () => resolve({ ws, received }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ received, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.once('error', (err) => {
      if (ws.readyState !== ws.CLOSED) reject(err);
    });
  });
}

// A loopback HTTP server around request/upgrade handlers (what `xepa serve` does, minus the CLI).
export async function serveHandlers(h: {
  request(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void h.request(req, res).then((taken) => {
      if (!taken) res.writeHead(404).end();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!h.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}
