import { parseArgs, type ParseArgsConfig } from 'node:util';
import { XepaError } from '../../agent/protocol/index.js';

export const DEFAULT_AGENT_PORT = 7443;

// Options every verb that talks to an agent understands.
export const AGENT_OPTIONS = {
  fingerprint: { type: 'string' },
  'key-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

// Parses argv with the given options; unknown flags are a clear error, not ignored.
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new XepaError('ERR_BAD_REQUEST', err instanceof Error ? err.message : String(err));
  }
}

// Turns HOST (`host`, `host:port`, `[v6]:port` or `wss://host:port`) into the agent's base URL.
export function agentUrl(host: string | undefined): string {
  if (!host) throw new XepaError('ERR_BAD_REQUEST', 'which agent? give HOST (host[:port] or wss://host:port)');
  if (/^wss:\/\//.test(host)) return host.replace(/\/+$/, '');
  if (/^[a-z]+:\/\//.test(host)) throw new XepaError('ERR_BAD_REQUEST', `agents are reached over wss:// only, not ${host}`);
  const hasPort = /\]:\d+$/.test(host) || (/^[^:]+:\d+$/.test(host));
  return `wss://${hasPort ? host : `${host}:${DEFAULT_AGENT_PORT}`}`;
}

// The pinned certificate fingerprint: --fingerprint or XEPA_FINGERPRINT; required, never trust-on-first-use here.
export function fingerprintOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fp = flag ?? env.XEPA_FINGERPRINT;
  if (!fp) {
    throw new XepaError('ERR_BAD_REQUEST', 'the agent\'s TLS fingerprint is needed (--fingerprint or XEPA_FINGERPRINT); the agent prints it when it starts');
  }
  return fp;
}

// Parses a size such as 512, 512M, 4G into MiB.
export function mibOf(text: string): number {
  const m = /^(\d+)\s*([MG]i?B?)?$/i.exec(text.trim());
  if (!m) throw new XepaError('ERR_BAD_REQUEST', `not a size: ${text} (examples: 2048, 4G)`);
  const n = Number(m[1]);
  return m[2]?.toUpperCase().startsWith('G') ? n * 1024 : n;
}
