import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { XepaError } from '../../agent/protocol/index.js';
import { DEFAULT_AGENT_PORT, MIN_NODE_MAJOR, RESCUE_PATHS } from '../../alpine/index.js';
import { mergeAgentConfig, type WantedAgentConfig } from './agent-config-merge.js';
import { probeAgentHealth } from './agent-health-probe.js';
import { checkFacts, describeFacts, readRemoteFacts, type RemoteFacts } from './remote-facts.js';
import { ensureRemoteFile, readRemoteText } from './remote-files.js';
import { agentPackages, installPackages, missingPackages } from './remote-packages.js';
import { installService, serviceRunning, startService, type InitKind } from './remote-service.js';
import type { RemoteShell } from './remote-shell.js';

/** One step of an injection and whether it changed the rescue system. */
export interface InjectStep {
  step: 'system' | 'packages' | 'bundle' | 'config' | 'service' | 'agent' | 'health';
  status: 'changed' | 'unchanged' | 'skipped';
  detail: string;
}

/** What to inject. */
export interface InjectOptions extends WantedAgentConfig {
  where: string; // ssh://root@host:port, for messages
  bundle: Buffer; // dist/xepa-agent.mjs
  packages?: 'install' | 'check'; // install what is missing (default), or only refuse when something is
  healthTimeoutMs?: number; // default 60 s
}

/** The injected agent. */
export interface InjectResult {
  agentId: string;
  port: number;
  fingerprint: string;
  version: string;
  init: InitKind;
  facts: RemoteFacts;
  steps: InjectStep[];
  changed: boolean;
}

const MiB = 2 ** 20;

// Installs (or upgrades in place) the agent on a rescue system through `shell`: packages, bundle, config,
// service, start, health; every step reports whether it changed anything, and a run that finds everything in
// place changes nothing and does not restart the agent. The fingerprint is read over the shell.
export async function injectAgent(shell: RemoteShell, o: InjectOptions, onStep: (s: InjectStep) => void = () => {}): Promise<InjectResult> {
  const steps: InjectStep[] = [];
  const report = (s: InjectStep): void => {
    steps.push(s);
    onStep(s);
  };

  const facts = await readRemoteFacts(shell);
  checkFacts(facts, o.where);
  const pm = facts.packageManager as 'apk' | 'apt';
  report({ step: 'system', status: 'unchanged', detail: describeFacts(facts) });

  // Space for the bundle (the temporary upload and the old copy side by side), before anything is written.
  const need = 2 * o.bundle.length + 16 * MiB;
  if (facts.freeBytes !== undefined && facts.freeBytes < need) {
    throw new XepaError('ERR_NO_SPACE', `${o.where}: only ${(facts.freeBytes / MiB).toFixed(0)} MiB free under ${RESCUE_PATHS.bundleDir}, the agent needs ${(need / MiB).toFixed(0)} MiB`, {
      details: { freeBytes: facts.freeBytes, needBytes: need },
    });
  }

  const wanted = agentPackages(pm);
  const missing = await missingPackages(shell, pm, wanted);
  if (missing.length === 0) {
    report({ step: 'packages', status: 'unchanged', detail: `all present: ${wanted.join(' ')}` });
  } else if (o.packages === 'check') {
    throw new XepaError('ERR_CONFIG', `${o.where} lacks ${missing.join(' ')} and package installation was turned off`, { details: { missing } });
  } else {
    await installPackages(shell, pm, missing, facts.freeBytes);
    const still = await missingPackages(shell, pm, missing);
    if (still.length) throw new XepaError('ERR_REMOTE_COMMAND', `${pm} reported success but ${still.join(' ')} is still not installed`);
    report({ step: 'packages', status: 'changed', detail: `installed ${missing.join(' ')}` });
  }
  const node = missing.length === 0 ? facts.nodeVersion : (await readRemoteFacts(shell)).nodeVersion;
  const major = Number(/^v(\d+)/.exec(node ?? '')?.[1]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new XepaError('ERR_UNSUPPORTED_DISTRO', `${o.where} has node ${node ?? '(none)'}; the agent needs Node ${MIN_NODE_MAJOR} or newer`, { details: { node: node ?? null } });
  }

  const bundleState = await ensureRemoteFile(shell, RESCUE_PATHS.bundle, o.bundle, 0o644);
  const sha = createHash('sha256').update(o.bundle).digest('hex').slice(0, 16);
  report({ step: 'bundle', status: bundleState, detail: `${RESCUE_PATHS.bundle} (${(o.bundle.length / MiB).toFixed(1)} MiB, sha256 ${sha}...)` });

  const merged = mergeAgentConfig(await readRemoteText(shell, RESCUE_PATHS.config), o);
  const configState = await ensureRemoteFile(shell, RESCUE_PATHS.config, merged.text, 0o600);
  const agentId = merged.config.agentId;
  const notes = configState === 'changed' && merged.notes.length ? `: ${merged.notes.join('; ')}` : '';
  report({ step: 'config', status: configState, detail: `${RESCUE_PATHS.config}, agent ${agentId}${notes}` });

  const init = facts.init;
  const service = await installService(shell, init);
  report({ step: 'service', status: service.change, detail: service.detail });

  const running = await serviceRunning(shell, init);
  const stale = bundleState === 'changed' || configState === 'changed' || service.change === 'changed';
  if (!running) {
    await startService(shell, init, false);
    report({ step: 'agent', status: 'changed', detail: 'started' });
  } else if (stale) {
    await startService(shell, init, true);
    report({ step: 'agent', status: 'changed', detail: 'restarted to pick up the new files' });
  } else {
    report({ step: 'agent', status: 'unchanged', detail: 'already running the same bundle and config' });
  }

  const port = merged.config.listen?.port ?? DEFAULT_AGENT_PORT;
  const listenHost = merged.config.listen?.host ?? '0.0.0.0';
  const probeHost = listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost === '::' ? '::1' : listenHost;
  const stateDir = merged.config.stateDir ?? RESCUE_PATHS.stateDir;
  const health = await probeAgentHealth(shell, { host: probeHost, port, certPath: posix.join(stateDir, 'tls-cert.pem'), init, timeoutMs: o.healthTimeoutMs ?? 60_000 });
  if (health.agentId !== agentId) {
    throw new XepaError('ERR_CONFIG', `the agent on port ${port} calls itself ${health.agentId}, not ${agentId}: another agent holds the port?`);
  }
  report({ step: 'health', status: 'unchanged', detail: `agent ${health.agentId} ${health.version} answers on ${probeHost}:${port}, TLS fingerprint ${health.fingerprint}` });

  return { agentId, port, fingerprint: health.fingerprint, version: health.version, init, facts, steps, changed: steps.some((s) => s.status === 'changed') };
}

