import type { KeyObject } from 'node:crypto';
import { signToken, type Scope } from '../../agent/protocol/index.js';

// Default token lifetime: short, since clients mint a fresh token for every (re)connection.
export const DEFAULT_TOKEN_TTL_SECONDS = 300;

/** What a token grants: which agent, which scopes, for how long. */
export interface MintOptions {
  agentId: string; // the token's audience
  scope: Scope[];
  ttlSeconds?: number;
  iss?: string;
  now?: () => number;
}

// Mints a signed, scoped, short-lived token for one agent with the controller's private key.
export function mintToken(privateKey: KeyObject | string, o: MintOptions): string {
  return signToken(privateKey, {
    aud: o.agentId,
    scope: o.scope,
    ttlSeconds: o.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    iss: o.iss ?? 'xepa-controller',
    now: (o.now ?? Date.now)(),
  });
}
