import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { PROTOCOL_VERSION, type JobEvent, type MethodName, type ParamsIn, type Result, type Scope } from '../../agent/protocol/index.js';
import { mintToken } from '../auth/index.js';
import { connectAgent, fetchAgentIdentity } from '../client/index.js';
import { createStreamContext } from '../console/index.js';

const CONTROL_TOKEN_TTL_S = 120;

/** One agent console endpoint: its path, and its query (the job; never a token). */
export interface AgentStreamTarget {
  path: string; // /v1/vnc, /v1/serial/N, /v1/qmp
  query: Record<string, string>;
  subprotocols?: string[];
}

/** What the web console needs from the agent: control calls, job events, and console streams. */
export interface AgentPort {
  agentId: string;
  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>>;
  // Streams a job's events after `after` until it ends (resumed across reconnects, each event once).
  followJob(job: string, after: number, onEvent: (e: JobEvent) => void): Promise<void>;
  // Opens an agent console endpoint with a fresh short-lived token of exactly one scope. The socket comes back
  // paused, so nothing the agent sends at once (the RFB greeting, the serial scrollback) is lost: the owner
  // listens, then resumes it.
  openStream(target: AgentStreamTarget, scope: Scope): Promise<WebSocket>;
  close(): void;
}

/** Where the agent is and how the controller proves who it is. */
export interface AgentLinkOptions {
  url: string; // wss://host:port
  fingerprint: string;
  privateKey: KeyObject; // the controller key: mints the agent tokens
  log?: Logger;
}

// Connects the console to its agent: learns the agent id (pinned health probe), opens the reconnecting control
// channel, and dials console streams through controller/console (pinned TLS, token in a header, liveness pings).
export async function connectAgentLink(o: AgentLinkOptions): Promise<AgentPort> {
  const { agentId } = await fetchAgentIdentity({ url: o.url, fingerprint: o.fingerprint });
  const streams = await createStreamContext({ url: o.url, fingerprint: o.fingerprint, privateKey: o.privateKey, agentId });
  const client = await connectAgent({
    url: o.url,
    fingerprint: o.fingerprint,
    token: () => mintToken(o.privateKey, { agentId, scope: ['control'], ttlSeconds: CONTROL_TOKEN_TTL_S, iss: 'xepa-web' }),
    reconnect: true,
    ...(o.log ? { log: o.log, onStatus: (s) => o.log?.info({ status: s.state }, 'agent control channel') } : {}),
  });
  await client.call('hello', { protocol: PROTOCOL_VERSION, client: 'xepa-web' });
  return {
    agentId,
    call: (method, params) => client.call(method, params),
    followJob: (job, after, onEvent) => client.followJob(job, { after, onEvent }),
    openStream: (t, scope) => streams.open(scope, { path: t.path, query: t.query, ...(t.subprotocols ? { subprotocols: t.subprotocols } : {}) }),
    close: () => void client.close(),
  };
}
