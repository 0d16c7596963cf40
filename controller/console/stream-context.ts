import type { KeyObject } from 'node:crypto';
import type WebSocket from 'ws';
import type { Scope } from '../../agent/protocol/index.js';
import { defaultControllerDir, loadControllerKey, mintToken } from '../auth/index.js';
import { fetchAgentIdentity } from '../client/index.js';
import { openAgentStream, type AgentStreamOptions } from './open-agent-stream.js';

// Lifetime of a console stream token: it only has to survive the upgrade (the stream then lives on).
export const STREAM_TOKEN_TTL_SECONDS = 60;

/** One agent's console endpoints, ready to dial: every open() mints a fresh short-lived token. */
export interface StreamContext {
  url: string;
  fingerprint: string;
  agentId: string;
  // Opens one stream with a new token of `scope`; options as openAgentStream's (url, fingerprint, token preset).
  open(scope: Scope, o: Omit<AgentStreamOptions, 'url' | 'fingerprint' | 'token'>): Promise<WebSocket>;
}

// Builds a stream context from what is known: the agent's URL and pin, the controller's private key and the
// agent id (asked from GET /v1/health over the pinned connection when not given).
export async function createStreamContext(o: {
  url: string;
  fingerprint: string;
  privateKey?: KeyObject;
  keyDir?: string;
  agentId?: string;
  ttlSeconds?: number;
}): Promise<StreamContext> {
  const privateKey = o.privateKey ?? (await loadControllerKey(o.keyDir ?? defaultControllerDir())).privateKey;
  const agentId = o.agentId ?? (await fetchAgentIdentity({ url: o.url, fingerprint: o.fingerprint })).agentId;
  return {
    url: o.url,
    fingerprint: o.fingerprint,
    agentId,
    open: (scope, so) =>
      openAgentStream({
        ...so,
        url: o.url,
        fingerprint: o.fingerprint,
        token: mintToken(privateKey, { agentId, scope: [scope], ttlSeconds: o.ttlSeconds ?? STREAM_TOKEN_TTL_SECONDS }),
      }),
  };
}
