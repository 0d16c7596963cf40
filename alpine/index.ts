// The rescue-system artifacts: where the agent lives, its OpenRC service and systemd unit, the packages it needs,
// its config file, the reproducible apkovl overlay and the iPXE script that netboots Alpine with it.
export { RESCUE_PATHS, SERVICE_NAME, DEFAULT_AGENT_PORT } from './layout.js';
export { ALPINE_PACKAGES, DEBIAN_PACKAGES, ALPINE_BASE_WORLD, MIN_NODE_MAJOR } from './packages.js';
export { openrcInitScript, openrcConfd } from './openrc-service.js';
export { systemdUnit } from './systemd-unit.js';
export { renderAgentConfig, AGENT_ID_PATTERN } from './agent-config-file.js';
export type { RescueAgentConfig } from './agent-config-file.js';
export { writeTar, compareTarPaths, TAR_DEFAULT_MTIME } from './tar-writer.js';
export type { TarEntry, TarOptions } from './tar-writer.js';
export { gzipDeterministic, crc32 } from './gzip.js';
export { buildApkovl, apkovlEntries } from './apkovl.js';
export type { ApkovlInput } from './apkovl.js';
export { renderIpxeScript, rescueKernelArgs, iommuArgs } from './ipxe-script.js';
export type { IpxeScriptInput } from './ipxe-script.js';
export { rescueArtifacts, writeRescueArtifacts } from './export-artifacts.js';
export type { RescueArtifact } from './export-artifacts.js';
