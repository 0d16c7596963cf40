import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir, loadControllerKey } from '../../auth/index.js';
import { fetchAgentIdentity } from '../../client/index.js';
import { formatSshTarget, injectAgent, openSshShell, parseSshTarget, type InjectResult, type InjectStep } from '../../inject/index.js';
import { canonicalAddress, readRegistry, recordAgent, registryPath } from '../../registry/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';

// `xepa inject --help`.
export const INJECT_USAGE = `usage: xepa inject ssh://root@HOST[:PORT] [options]
Installs the agent on a rescue system over SSH (packages, bundle, config, OpenRC/systemd service), starts it,
learns its TLS fingerprint over SSH and records it, so later commands are pinned. Running it again upgrades in
place and changes nothing else.
  --identity FILE         SSH private key (repeatable); default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa
                          (passphrase from XEPA_SSH_PASSPHRASE)
  --host-key SHA256:...   the host key fingerprint to expect (repeatable); known_hosts is then not consulted
  --known-hosts FILE      known_hosts files to check (repeatable); default: $XEPA_HOME/known_hosts, ~/.ssh/known_hosts
  --accept-new-host-key   trust an unknown host key on first use and record it ($XEPA_HOME/known_hosts); a changed
                          key is still refused
  --agent-id ID           default: the id already configured there, else a new xepa-XXXXXXXX
  --agent-port N          default: the port already configured there, else 7443
  --listen ADDR           the agent's listen address (default 0.0.0.0)
  --accel auto|kvm|tcg    force the agent's accelerator
  --address HOST[:PORT]   how this controller reaches the agent (default: the SSH host and the agent port)
  --no-packages           install no packages; fail when one is missing
  --bundle FILE           the agent bundle (default: xepa-agent.mjs beside this CLI)
  --timeout SECONDS       how long to wait for the agent to answer (default 60)
  --key-dir DIR           the controller directory (key, registry; default $XEPA_HOME or ~/.config/xepa)
  --json                  print the result as JSON`;

// The agent bundle to upload: --bundle, else beside this CLI bundle (dist/), else dist/ of the repository.
export function findAgentBundle(flag: string | undefined): string {
  if (flag) return flag;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'xepa-agent.mjs'), join(here, '..', '..', '..', 'dist', 'xepa-agent.mjs')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new XepaError('ERR_CONFIG', `the agent bundle was not found (${candidates.join(', ')}): run \`npm run build\` or give --bundle FILE`);
  return found;
}

function positiveInt(text: string | undefined, what: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new XepaError('ERR_BAD_REQUEST', `${what} must be a whole number from 1 to ${max}, not ${text}`);
  return n;
}

function stepLine(s: InjectStep): string {
  return `${s.step.padEnd(9)}${s.status.padEnd(10)}${s.detail}`;
}

// `xepa inject`: install or upgrade the agent on a rescue system and pin its fingerprint in the registry.
export async function injectCommand(argv: string[], o: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parse(argv, {
    identity: { type: 'string', multiple: true },
    'host-key': { type: 'string', multiple: true },
    'known-hosts': { type: 'string', multiple: true },
    'accept-new-host-key': { type: 'boolean', default: false },
    'agent-id': { type: 'string' },
    'agent-port': { type: 'string' },
    listen: { type: 'string' },
    accel: { type: 'string' },
    address: { type: 'string' },
    'no-packages': { type: 'boolean', default: false },
    bundle: { type: 'string' },
    timeout: { type: 'string' },
    'key-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return line(o.out, INJECT_USAGE), 0;
  if (positionals.length !== 1) throw new XepaError('ERR_BAD_REQUEST', `give exactly one target\n${INJECT_USAGE}`);
  const target = parseSshTarget(positionals[0]);
  const where = formatSshTarget(target);
  const accel = values.accel;
  if (accel !== undefined && accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw new XepaError('ERR_BAD_REQUEST', `--accel must be auto, kvm or tcg, not ${accel}`);
  const port = positiveInt(values['agent-port'], '--agent-port', 65535);
  const timeoutS = positiveInt(values.timeout, '--timeout', 3600) ?? 60;
  const dir = values['key-dir'] ?? defaultControllerDir(env);
  const key = await loadControllerKey(dir); // before connecting: no key, nothing to inject
  const bundlePath = findAgentBundle(values.bundle);
  const bundle = await readFile(bundlePath).catch((err: unknown) => {
    throw new XepaError('ERR_CONFIG', `cannot read the agent bundle ${bundlePath}: ${(err as Error).message}`, { cause: err });
  });
  const say = (t: string): void => line(o.err, t);

  const shell = await openSshShell({
    target,
    auth: { identityFiles: values.identity ?? [], ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}), ...(env.XEPA_SSH_PASSPHRASE ? { passphrase: env.XEPA_SSH_PASSPHRASE } : {}) },
    hostKeys: {
      fingerprints: values['host-key'] ?? [],
      knownHostsFiles: values['known-hosts'] ?? [join(dir, 'known_hosts'), join(homedir(), '.ssh', 'known_hosts')],
      acceptNew: values['accept-new-host-key'],
      recordFile: values['known-hosts']?.[0] ?? join(dir, 'known_hosts'),
    },
  });
  let result: InjectResult;
  try {
    const how = { fingerprint: 'matches --host-key', known_hosts: 'found in known_hosts', 'accepted-new': 'NEW, accepted on first use and recorded' }[shell.hostKey.how!];
    say(`${where}: host key ${shell.hostKey.fingerprint} (${how})`);
    result = await injectAgent(
      shell,
      {
        where,
        bundle,
        controllerKey: key.publicKeyBase64,
        packages: values['no-packages'] ? 'check' : 'install',
        healthTimeoutMs: timeoutS * 1000,
        ...(values['agent-id'] !== undefined ? { agentId: values['agent-id'] } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(values.listen !== undefined ? { listenHost: values.listen } : {}),
        ...(accel !== undefined ? { accel } : {}),
      },
      (s) => say(stepLine(s)),
    );
  } finally {
    shell.close();
  }

  const address = canonicalAddress(values.address ?? (target.host.includes(':') ? `[${target.host}]` : target.host), result.port);
  const file = registryPath(dir);
  const now = new Date().toISOString();
  const before = (await readRegistry(file)).find((a) => a.id === result.agentId);
  const entry = await recordAgent(file, {
    id: result.agentId,
    address,
    fingerprint: result.fingerprint,
    version: result.version,
    ssh: where,
    injectedAt: result.changed || !before?.injectedAt ? now : before.injectedAt,
  });
  // The pin was learned over SSH; now check the agent from here, through the network, with that pin.
  let reachable: string;
  try {
    await fetchAgentIdentity({ url: `wss://${address}`, fingerprint: result.fingerprint, timeoutMs: 5_000 });
    await recordAgent(file, { id: result.agentId, lastSeen: new Date().toISOString() });
    reachable = 'answers from here over pinned TLS';
  } catch (err) {
    reachable = `not reachable from here (${(err as Error).message}): check the firewall, or give --address`;
  }
  if (values.json) {
    line(o.out, JSON.stringify({ ...result, address, registry: file, reachable, registered: entry }, null, 2));
  } else {
    line(o.out, `agent ${result.agentId} ${result.version} at ${address}: ${result.changed ? 'installed/upgraded' : 'unchanged'}, ${reachable}`);
    line(o.out, `fingerprint ${result.fingerprint} (read over SSH, pinned in ${file})`);
  }
  return 0;
}
