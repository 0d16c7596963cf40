import { DEFAULT_AGENT_PORT, RESCUE_PATHS } from './layout.js';

/** What a rescue system's /etc/xepa/agent.json says (the agent's config file format, agent/config.ts). */
export interface RescueAgentConfig {
  agentId: string;
  trustedKeys: string[]; // controller Ed25519 public keys, base64 raw or PEM
  listen?: { host?: string; port?: number };
  stateDir?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  logLevel?: string;
  [other: string]: unknown; // fields written by hand are kept as they are
}

// Agent ids are tokens' audience and registry keys: the same rule as the agent's config schema.
export const AGENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

// The config with defaults filled in, keys in a fixed order: the same input always renders the same bytes.
export function renderAgentConfig(c: RescueAgentConfig): string {
  const { agentId, trustedKeys, listen, stateDir, accel, logLevel, ...rest } = c;
  if (!AGENT_ID_PATTERN.test(agentId)) throw new TypeError(`agent id "${agentId}": letters, digits, . _ - (1-64)`);
  if (trustedKeys.length === 0) throw new TypeError('the agent config needs at least one trusted controller key');
  const ordered: Record<string, unknown> = {
    agentId,
    listen: { host: listen?.host ?? '0.0.0.0', port: listen?.port ?? DEFAULT_AGENT_PORT },
    stateDir: stateDir ?? RESCUE_PATHS.stateDir,
    trustedKeys,
    accel: accel ?? 'auto',
    ...(logLevel ? { logLevel } : {}),
  };
  for (const k of Object.keys(rest).sort()) ordered[k] = rest[k];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
