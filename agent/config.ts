import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ENROL_TOKEN, XepaError, isENOENT } from './protocol/index.js';

// The agent's configuration file (JSON); command-line flags override it.
export const AgentConfig = z
  .object({
    agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'agentId: letters, digits, . _ - (1-64)').optional(),
    listen: z
      .object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(7443) })
      .strict()
      .default({}),
    // State (TLS identity, jobs, journal). In a rescue system this is RAM; DESIGN puts it in /run/xepa.
    stateDir: z.string().default('/run/xepa'),
    isoDir: z.string().optional(), // default: <stateDir>/isos
    trustedKeys: z.array(z.string().min(1)).min(1, 'trustedKeys: at least one controller public key is needed'),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    probeKernel: z.string().optional(), // a kernel to prove KVM with (boots to a panic under KVM)
    // How long that kernel gets to show it runs (default 20 s; nested KVM under an emulated host needs ~30 s).
    probeTimeoutSeconds: z.number().int().min(1).max(600).optional(),
    // Browser origins allowed to open the agent's WebSockets directly (default none: browsers use the console).
    allowedOrigins: z.array(z.string().url().max(200)).max(16).optional(),
    // The longest token life (exp - iat) the agent accepts, whoever minted it (default 900 s; the CLI mints 60-300 s).
    maxTokenLifetimeSeconds: z.number().int().min(10).max(86_400).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // ISO URLs to loopback/link-local addresses (the rescue host itself, metadata services) are refused unless
    // this is true — a lab or demo serving ISOs on 127.0.0.1 (docs/reliability.md, attack classes).
    allowLocalIsoUrls: z.boolean().default(false),
    // Rescue-boot enrolment (agent/enrol): report this agent's fingerprint once to the controller that built the
    // apkovl, with the one-time token it put there (docs/injection.md, "Netboot").
    enrol: z.object({ url: z.string().url().max(500), token: z.string().regex(ENROL_TOKEN, 'enrol.token: 43 characters of base64url') }).strict().optional(),
  })
  .strict();
export type AgentConfig = z.output<typeof AgentConfig>;

export const AGENT_USAGE = `usage: xepa-agent [--config FILE] [--port N] [--host ADDR] [--state-dir DIR] [--iso-dir DIR]
                  [--trust KEY]... [--agent-id ID] [--accel auto|kvm|tcg] [--probe-kernel FILE] [--log-level L]
                  [--allow-local-iso-urls]
KEY is an Ed25519 public key as PEM text, base64, or a path to a file holding one.`;

// A --trust value that is not a key: the file it names, or ERR_CONFIG saying it is neither.
function readKeyFile(path: string, readFile: (p: string) => string): string {
  try {
    return readFile(path);
  } catch (err) {
    const why = isENOENT(err) ? 'no such file' : err instanceof Error ? err.message : String(err);
    throw new XepaError('ERR_CONFIG', `--trust ${path}: not a key (PEM or 32 bytes of base64) and not a readable key file (${why})`, { cause: err });
  }
}

// Reads the config file (if any) and applies command-line overrides; errors name the bad field.
export function loadAgentConfig(argv: string[], readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): AgentConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'state-dir': { type: 'string' },
      'iso-dir': { type: 'string' },
      trust: { type: 'string', multiple: true },
      'agent-id': { type: 'string' },
      accel: { type: 'string' },
      'probe-kernel': { type: 'string' },
      'log-level': { type: 'string' },
      'allow-local-iso-urls': { type: 'boolean' },
    },
    strict: true,
  });
  let raw: Record<string, unknown> = {};
  if (values.config) {
    try {
      raw = JSON.parse(readFile(values.config)) as Record<string, unknown>;
    } catch (err) {
      const why = isENOENT(err) ? 'not found' : err instanceof Error ? err.message : String(err);
      throw new XepaError('ERR_CONFIG', `cannot read config ${values.config}: ${why}`, { cause: err });
    }
  }
  const listen = { ...(raw.listen as object | undefined) } as Record<string, unknown>;
  if (values.port !== undefined) listen.port = Number(values.port);
  if (values.host !== undefined) listen.host = values.host;
  const merged: Record<string, unknown> = { ...raw, listen };
  if (values['state-dir']) merged.stateDir = values['state-dir'];
  if (values['iso-dir']) merged.isoDir = values['iso-dir'];
  if (values['agent-id']) merged.agentId = values['agent-id'];
  if (values.accel) merged.accel = values.accel;
  if (values['probe-kernel']) merged.probeKernel = values['probe-kernel'];
  if (values['log-level']) merged.logLevel = values['log-level'];
  if (values['allow-local-iso-urls']) merged.allowLocalIsoUrls = true;
  if (values.trust) {
    // A key itself (PEM, or 32 bytes of base64), else the path of a file holding one (relative paths too).
    const keys = values.trust.map((k) => (k.includes('-----BEGIN') || /^[A-Za-z0-9+/]{43}=$/.test(k.trim()) ? k : readKeyFile(k, readFile)));
    merged.trustedKeys = [...((raw.trustedKeys as string[] | undefined) ?? []), ...keys];
  }
  const parsed = AgentConfig.safeParse(merged);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new XepaError('ERR_CONFIG', `bad agent configuration: ${why}`);
  }
  return parsed.data;
}
