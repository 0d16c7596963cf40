import type { RegisteredAgent } from './agent-registry.js';

// Canonical "host:port" of an address or agent URL (default port 7443), for comparing addresses.
export function canonicalAddress(text: string, defaultPort = 7443): string {
  const bare = text.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  if (v6) return `[${v6[1]!.toLowerCase()}]:${v6[2] ?? defaultPort}`;
  const m = /^([^:]+)(?::(\d+))?$/.exec(bare);
  if (!m) return bare.toLowerCase();
  return `${m[1]!.toLowerCase()}:${m[2] ?? defaultPort}`;
}

// The registered agent that HOST names: an agent id, or the address it was recorded with.
export function findRegisteredAgent(agents: readonly RegisteredAgent[], host: string): RegisteredAgent | undefined {
  const byId = agents.find((a) => a.id === host);
  if (byId) return byId;
  const want = canonicalAddress(host);
  return agents.find((a) => canonicalAddress(a.address) === want);
}
