import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { XepaError } from '../../agent/protocol/index.js';
import type { ControllerKey } from '../auth/index.js';
import { connectAgentLink } from './agent-link.js';
import { embeddedWebAssets, type WebAssets } from './assets.js';
import { mintLoginToken, type WebRole } from './login-token.js';
import { originOf } from './origin.js';
import { createWebConsole } from './web-console.js';

/** The web console as `xepa serve` mounts it. */
export interface WebConsoleMount {
  name: 'web-console';
  origin: string;
  agentId: string;
  request(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  loginLink(role: WebRole, ttlSeconds?: number): string;
  close(): void;
}

// Connects to the agent and builds the console for `xepa serve` (assets: the ones embedded in the bundle).
export async function startWebConsoleMount(o: {
  agentUrl: string;
  fingerprint: string;
  key: ControllerKey;
  publicUrl: string;
  secure: boolean;
  log?: Logger;
  assets?: WebAssets;
}): Promise<WebConsoleMount> {
  const assets = o.assets ?? embeddedWebAssets(); // fail before dialing when the bundle lacks them
  const host = new URL(originOf(o.publicUrl)).hostname;
  if (host === '0.0.0.0' || host === '[::]') {
    throw new XepaError('ERR_CONFIG', `browsers cannot reach the console at ${o.publicUrl}: give --public-url with the name they use (its origin is checked on every request)`);
  }
  const agent = await connectAgentLink({ url: o.agentUrl, fingerprint: o.fingerprint, privateKey: o.key.privateKey, ...(o.log ? { log: o.log } : {}) });
  const web = createWebConsole({ agent, publicUrl: o.publicUrl, secure: o.secure, signingKey: o.key, assets, ...(o.log ? { log: o.log } : {}) });
  return {
    name: 'web-console',
    origin: web.origin,
    agentId: agent.agentId,
    request: (req, res) => web.handleRequest(req, res),
    upgrade: (req, socket, head) => web.handleUpgrade(req, socket, head),
    loginLink: (role, ttl) => web.loginLink(role, ttl),
    close: () => {
      web.close();
      agent.close();
    },
  };
}

// A one-time login link for the console at `url`, minted with the controller key (used by `xepa serve login`
// and `xepa console`: any process holding the key can hand out links for a running console).
export function mintLoginLink(privateKey: KeyObject, o: { url: string; role: WebRole; ttlSeconds?: number }): string {
  const origin = originOf(o.url);
  return `${origin}/login?t=${mintLoginToken(privateKey, { origin, role: o.role, ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}) })}`;
}
