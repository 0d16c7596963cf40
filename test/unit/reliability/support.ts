// Helpers of the reliability unit suite: a handler table that records what reaches it, an in-process agent
// server on loopback, raw upgrade requests (to observe refusals as HTTP) and WebSocket round trips.
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import WebSocket from 'ws';
import type { Handlers } from '../../../agent/api/control.js';
import { startAgentServer, type AgentServer, type AgentServerOptions } from '../../../agent/api/server.js';
import { PROTOCOL_VERSION, type ResponseEnvelope } from '../../../agent/protocol/index.js';
import { AGENT_ID, agentServerOptions, controllerKeys, testIdentity, type ControllerPair } from '../api/fixtures.js';

/** One call that reached a handler. */
export interface HandlerCall {
  method: string;
  params: unknown;
}

// A complete handler table (whatever methods the protocol has today) that records every call; hello answers
// for real, every other method answers `{}` (the dispatcher does not check results).
export function recordingHandlers(): { handlers: Handlers; calls: HandlerCall[] } {
  const calls: HandlerCall[] = [];
  const handlers = new Proxy({} as Handlers, {
    get: (_t, method) => async (params: unknown) => {
      calls.push({ method: String(method), params });
      if (method === 'hello') return { protocol: PROTOCOL_VERSION, agentId: AGENT_ID, version: 'test', fingerprint: 'AA' };
      return {};
    },
  });
  return { handlers, calls };
}

/** A started in-process server with what the tests need to talk to it. */
export interface TestServer {
  server: AgentServer;
  keys: ControllerPair;
  calls: HandlerCall[];
  url: string;
}

// Starts the real agent server (TLS on 127.0.0.1, port 0) with recording handlers and the given extra options.
export async function startTestServer(extra: Partial<AgentServerOptions> = {}, keys: ControllerPair = controllerKeys()): Promise<TestServer> {
  const id = await testIdentity();
  const { handlers, calls } = recordingHandlers();
  const server = await startAgentServer({ ...agentServerOptions(id, keys, handlers), ...extra });
  return { server, keys, calls, url: `wss://127.0.0.1:${server.port}` };
}

/** How the server answered a raw upgrade request. */
export interface UpgradeAnswer {
  status: number;
  code?: string;
  message?: string;
  upgraded: boolean;
}

// Sends an upgrade request with exactly these headers and reports the answer (101, or the refusal's JSON body).
export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const h = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: h, rejectUnauthorized: false, agent: false });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, upgraded: true });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: { code?: string; message?: string } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          // not JSON: status only
        }
        resolve({ status: res.statusCode ?? 0, ...(body.code ? { code: body.code } : {}), ...(body.message ? { message: body.message } : {}), upgraded: false });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// Opens a WebSocket on `path` with a bearer token (TLS not pinned: these tests look at the server).
export function openWs(port: number, path: string, token: string, opts: { origin?: string; protocols?: string[] } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, opts.protocols ?? ['xepa'], {
      rejectUnauthorized: false,
      headers: { Authorization: `Bearer ${token}` },
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// Sends one frame and resolves with the next reply; rejects when the connection closes first.
export function roundTrip(ws: WebSocket, data: string | Buffer, binary = false): Promise<ResponseEnvelope> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number): void => reject(new Error(`closed with ${code} before a reply`));
    ws.once('close', onClose);
    ws.once('message', (m) => {
      ws.off('close', onClose);
      resolve(JSON.parse(String(m)) as ResponseEnvelope);
    });
    ws.send(data, { binary });
  });
}

// A hello request frame.
export const helloFrame = (id = 'h'): string => JSON.stringify({ id, key: `k-${id}`, method: 'hello', params: { protocol: PROTOCOL_VERSION } });

// Resolves with the close code of a WebSocket.
export const closeCode = (ws: WebSocket): Promise<number> =>
  ws.readyState === WebSocket.CLOSED ? Promise.resolve(1006) : new Promise((r) => ws.once('close', (c: number) => r(c)));
