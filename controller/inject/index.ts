// Injection over SSH: verify the rescue system's host key, install the agent's packages, bundle, config and
// service, start it, and learn its TLS fingerprint over the SSH channel.
export { parseSshTarget, formatSshTarget } from './ssh-target.js';
export type { SshTarget } from './ssh-target.js';
export {
  sshKeyFingerprint,
  normalizeSshFingerprint,
  parseKnownHosts,
  checkKnownHosts,
  hostsFieldMatches,
  knownHostsName,
  knownHostsLine,
  keyTypeOf,
} from './host-keys.js';
export type { KnownHostLine, KnownHostVerdict } from './host-keys.js';
export { decideHostKey, recordHostKey } from './host-key-policy.js';
export type { HostKeyPolicy, HostKeyDecision } from './host-key-policy.js';
export { openSshShell } from './ssh-shell.js';
export type { SshAuth, SshShell } from './ssh-shell.js';
export { shq, runRemote, REMOTE_PATH } from './remote-shell.js';
export type { RemoteShell, ExecResult } from './remote-shell.js';
export { readRemoteFacts, parseFacts, checkFacts, describeFacts, FACTS_SCRIPT } from './remote-facts.js';
export type { RemoteFacts } from './remote-facts.js';
export { mergeAgentConfig, newAgentId } from './agent-config-merge.js';
export type { WantedAgentConfig, MergedAgentConfig } from './agent-config-merge.js';
export { agentPackages, missingPackages, installPackages } from './remote-packages.js';
export { ensureRemoteFile, readRemoteText, remoteFileState } from './remote-files.js';
export { installService, serviceRunning, startService } from './remote-service.js';
export type { InitKind, ServiceStep } from './remote-service.js';
export { probeAgentHealth, HEALTH_PROBE_SCRIPT } from './agent-health-probe.js';
export { injectAgent } from './inject-agent.js';
export type { InjectOptions, InjectResult, InjectStep } from './inject-agent.js';
