import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, WireError, XepaError, fromWireError, type JobEvent, type MethodName, type ParamsIn, type Result, type Scope } from '../../agent/protocol/index.js';
import { mintToken } from '../auth/index.js';
import { connectAgent, connectPinned, fetchAgentIdentity, parseAgentUrl } from '../client/index.js';

// Agent tokens minted for one proxied connection live this long: the agent checks them only at the upgrade.
export const STREAM_TOKEN_TTL_S = 60;
const CONTROL_TOKEN_TTL_S = 120;
const MAX_STREAM_MESSAGE = 16 << 20;

/** What the web console needs from the agent: control calls, job events, and console streams. */
export interface AgentPort {
  agentId: string;
  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>>;
  // Streams a job's events after `after` until it ends (resumed across reconnects, each event once).
  followJob(job: string, after: number, onEvent: (e: JobEvent) => void): Promise<void>;
  // Opens an agent WebSocket endpoint (e.g. /v1/vnc?job=..) with a fresh token of one scope. The socket comes
  // back paused, so nothing the agent sends at once (the RFB greeting) is lost: resume() it once listening.
  openStream(path: string, scope: Scope, subprotocols?: string[]): Promise<WebSocket>;
  close(): void;
}

/** Where the agent is and how the controller proves who it is. */
export interface AgentLinkOptions {
  url: string; // wss://host:port
  fingerprint: string;
  privateKey: KeyObject; // the controller key: mints the agent tokens
  log?: Logger;
}

const statusCode = (s: number) => (s === 401 ? 'ERR_UNAUTHORIZED' : s === 403 ? 'ERR_FORBIDDEN' : s === 404 ? 'ERR_NOT_FOUND' : s === 400 ? 'ERR_BAD_REQUEST' : 'ERR_CONNECT');

// Dials one agent stream: the TLS pin is checked on a socket that has carried nothing, then the upgrade with the
// token in the Authorization header is written on it. A refused upgrade becomes the agent's XepaError.
// The socket is returned paused (see AgentPort.openStream).
export async function dialAgentStream(o: { url: string; fingerprint: string; token: string; path: string; subprotocols?: string[] }): Promise<WebSocket> {
  const addr = parseAgentUrl(o.url);
  const socket = await connectPinned({ ...addr, fingerprint: o.fingerprint });
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${host}:${addr.port}${o.path}`, o.subprotocols ?? ['xepa'], {
      createConnection: () => socket,
      headers: { Authorization: `Bearer ${o.token}` },
      perMessageDeflate: false,
      maxPayload: MAX_STREAM_MESSAGE,
      handshakeTimeout: 10_000,
    });
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        socket.destroy();
        let err = new XepaError(statusCode(res.statusCode ?? 0), `the agent refused ${o.path}: HTTP ${res.statusCode}`);
        try {
          const w = WireError.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          if (w.success) err = fromWireError(w.data);
        } catch {
          // not JSON: keep the status-derived error
        }
        reject(err);
      });
    });
    ws.once('open', () => {
      ws.pause(); // at once, in the 'open' event: data that came with the 101 answer waits for the owner
      ws.removeAllListeners('error');
      ws.on('error', () => undefined); // the owner watches 'close', which follows every error
      resolve(ws);
    });
    ws.once('error', (err) => {
      socket.destroy();
      reject(new XepaError('ERR_CONNECT', `cannot open ${o.path} on the agent: ${err.message}`, { cause: err }));
    });
  });
}

// Connects the console to its agent: learns the agent id (pinned health probe), opens the reconnecting control
// channel, and mints a fresh, short-lived token of exactly the needed scope for every proxied stream.
export async function connectAgentLink(o: AgentLinkOptions): Promise<AgentPort> {
  const identity = await fetchAgentIdentity({ url: o.url, fingerprint: o.fingerprint });
  const mint = (scope: Scope[], ttlSeconds: number): string => mintToken(o.privateKey, { agentId: identity.agentId, scope, ttlSeconds, iss: 'xepa-web' });
  const client = await connectAgent({
    url: o.url,
    fingerprint: o.fingerprint,
    token: () => mint(['control'], CONTROL_TOKEN_TTL_S),
    reconnect: true,
    ...(o.log ? { log: o.log, onStatus: (s) => o.log?.info({ status: s.state }, 'agent control channel') } : {}),
  });
  await client.call('hello', { protocol: PROTOCOL_VERSION, client: 'xepa-web' });
  return {
    agentId: identity.agentId,
    call: (method, params) => client.call(method, params),
    followJob: (job, after, onEvent) => client.followJob(job, { after, onEvent }),
    openStream: (path, scope, subprotocols) =>
      dialAgentStream({ url: o.url, fingerprint: o.fingerprint, token: mint([scope], STREAM_TOKEN_TTL_S), path, ...(subprotocols ? { subprotocols } : {}) }),
    close: () => void client.close(),
  };
}
