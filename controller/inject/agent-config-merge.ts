import { createPublicKey, randomBytes } from 'node:crypto';
import { XepaError } from '../../agent/protocol/index.js';
import { AGENT_ID_PATTERN, renderAgentConfig, type RescueAgentConfig } from '../../alpine/index.js';

/** What this injection wants in the agent's config; unset fields keep what the rescue system has. */
export interface WantedAgentConfig {
  controllerKey: string; // this controller's public key, base64 raw
  agentId?: string;
  port?: number;
  listenHost?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
}

/** The merged config and what changed in it. */
export interface MergedAgentConfig {
  config: RescueAgentConfig;
  text: string;
  notes: string[];
}

// A fresh agent id: "xepa-" and 8 hex digits (rescue host names are rarely unique: "rescue", "localhost").
export function newAgentId(): string {
  return `xepa-${randomBytes(4).toString('hex')}`;
}

// The raw Ed25519 key of a trusted-key entry (PEM or base64), to compare keys written in either form.
function rawKey(entry: string): string {
  const text = entry.trim();
  if (!text.includes('-----BEGIN')) return text;
  try {
    const jwk = createPublicKey(text).export({ format: 'jwk' });
    return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
  } catch {
    return text;
  }
}

// Merges what the injection wants into the config already on the rescue system: the agent id stays (unless
// one is given), other controllers' keys and hand-written fields stay, our key is added once.
export function mergeAgentConfig(existingText: string | undefined, wanted: WantedAgentConfig, makeId: () => string = newAgentId): MergedAgentConfig {
  let existing: Partial<RescueAgentConfig> = {};
  if (existingText !== undefined) {
    try {
      const json: unknown = JSON.parse(existingText);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object');
      existing = json as Partial<RescueAgentConfig>;
    } catch (err) {
      throw new XepaError('ERR_CONFIG', `the agent config on the rescue system is not valid JSON (${(err as Error).message}): fix or remove it`, { cause: err });
    }
  }
  const notes: string[] = [];
  const oldId = typeof existing.agentId === 'string' ? existing.agentId : undefined;
  const agentId = wanted.agentId ?? oldId ?? makeId();
  if (!AGENT_ID_PATTERN.test(agentId)) throw new XepaError('ERR_BAD_REQUEST', `agent id "${agentId}": letters, digits, . _ - (1-64)`);
  if (oldId && oldId !== agentId) notes.push(`agent id changes from ${oldId} to ${agentId}`);
  const keys = Array.isArray(existing.trustedKeys) ? existing.trustedKeys.filter((k): k is string => typeof k === 'string') : [];
  if (!keys.some((k) => rawKey(k) === wanted.controllerKey)) {
    keys.push(wanted.controllerKey);
    notes.push(existingText === undefined ? 'trusts this controller' : 'now also trusts this controller');
  }
  const listen = { ...(existing.listen ?? {}) };
  if (wanted.port !== undefined) listen.port = wanted.port;
  if (wanted.listenHost !== undefined) listen.host = wanted.listenHost;
  const config: RescueAgentConfig = { ...existing, agentId, trustedKeys: keys, listen };
  if (wanted.accel) config.accel = wanted.accel;
  return { config, text: renderAgentConfig(config), notes };
}
