import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createAgentLog } from './agent-log.js';
import { checkStateDir, startAgentServer, ensureTlsIdentity } from './api/index.js';
import { enrolAtBoot } from './enrol/index.js';
import { AGENT_USAGE, loadAgentConfig, type AgentConfig } from './config.js';
import { createConsoleRoutes, jobConsoleTargets } from './console/index.js';
import { Procfs, Sysfs, listDisks, resolveDisks } from './host/index.js';
import { JobManager, installSteps, recoverSteps } from './jobs/index.js';
import { cachedIsoFirmwareCheck } from './iso/index.js';
import { takeSnapshot } from './machine/index.js';
import { createPciIds } from './pci/index.js';
import type { VfioDeps } from './vfio/index.js';
import { isENOENT, isXepaError, parsePublicKey } from './protocol/index.js';
import { createFinishDeps, createHandlers } from './methods/index.js';
import { createToolRunner, fidelityInputs } from './fidelity/index.js';
import { VERSION } from './protocol/version.js';
import { probeAccel, type AccelChoice } from './vm/index.js';

// The agent's id: from the config, else created once and kept in the state dir (it is the tokens' audience).
function agentIdOf(config: AgentConfig): string {
  if (config.agentId) return config.agentId;
  const file = join(config.stateDir, 'agent-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (!isENOENT(err)) throw err;
    const id = `agent-${randomBytes(4).toString('hex')}`;
    writeFileSync(file, `${id}\n`, { mode: 0o600, flag: 'wx' }); // exclusive: never through a planted file or symlink
    return id;
  }
}

// Composition root: read the config, build the real dependencies, serve until SIGTERM/SIGINT.
async function main(log: Logger, config: AgentConfig): Promise<void> {
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  // Refuse a state (or ISO) directory another user could write: they could swap keys, journals or verified ISOs.
  checkStateDir(config.stateDir);
  if (config.isoDir) {
    mkdirSync(config.isoDir, { recursive: true, mode: 0o700 });
    checkStateDir(config.isoDir);
  }
  const agentId = agentIdOf(config);
  const identity = await ensureTlsIdentity(config.stateDir);
  const trustedKeys = config.trustedKeys.map(parsePublicKey);
  const sysfs = new Sysfs();
  const procfs = new Procfs();
  const devRoot = '/dev'; // the snapshot and the disk selectors' /dev links read the same root

  // The KVM probe boots a kernel under KVM (up to ~20 s when KVM hangs): start it now, await it when planning.
  const accel: Promise<AccelChoice> =
    config.accel === 'auto'
      ? probeAccel({
          log,
          ...(config.probeKernel ? { probeKernel: config.probeKernel } : {}),
          ...(config.probeTimeoutSeconds ? { timeoutMs: config.probeTimeoutSeconds * 1000 } : {}),
        })
      : Promise.resolve({ accel: config.accel, reason: `set by the agent's configuration (${config.accel})` });

  const tools = createToolRunner(); // xorriso, mtools, sfdisk, efibootmgr (fidelity and finish)
  const vfio: VfioDeps = { sysfs, log, stateDir: config.stateDir };
  const jobsDir = join(config.stateDir, 'jobs');
  // The install, composed once: each capability's step, in order (agent/jobs/install-steps.ts).
  const steps = installSteps({ log, isoDir: config.isoDir ?? join(config.stateDir, 'isos'), allowLocalIsoUrls: config.allowLocalIsoUrls, listDisks: () => listDisks({ sysfs, procfs }), sysfs, run: tools, vfio });
  // What a previous run left (kill -9 of the agent) is undone before anything else, from each job's undo
  // journal, last step first: its VM is stopped (it still writes the disks and holds the vfio devices), then
  // the devices go back to their drivers.
  for (const job of await recoverSteps(steps, jobsDir, log)) log.warn({ job }, 'undid what an earlier run left of this job');
  const jobs = new JobManager(jobsDir, { log, now: () => new Date(), steps });
  const past = jobs.loadPast(log); // after the device journal is restored: interrupted jobs end failed
  if (past > 0) log.info({ jobs: past }, 'jobs of earlier runs loaded');
  const pciIds = createPciIds();
  const handlers = createHandlers({
    isoFirmware: cachedIsoFirmwareCheck(config.isoDir ?? join(config.stateDir, 'isos')),
    fidelity: fidelityInputs({ sysfs }),
    finish: createFinishDeps({ stateDir: config.stateDir, run: tools, log, listDisks: () => listDisks({ sysfs, procfs }), efiDir: () => sysfs.exists('firmware/efi') }),
    agentId,
    version: VERSION,
    fingerprint: identity.fingerprint,
    jobs,
    accel: () => accel,
    resolveDisks: (selectors, disks) => resolveDisks(selectors, disks, { devRoot }),
    // One reading of the machine per request: inventory, PCI functions and groups, the protected set.
    snapshot: (peers) =>
      takeSnapshot({ sysfs, procfs, devRoot, log, ids: pciIds, kvm: async () => accel.then((a) => ({ usable: a.accel === 'kvm', reason: a.reason })) }, peers),
  });
  // The consoles (VNC, serial, QMP, shell, screenshots) of the running job's VM; node-pty loads lazily.
  const consoles = createConsoleRoutes({
    targets: jobConsoleTargets(jobs),
    log,
    mediaDirs: [config.isoDir ?? join(config.stateDir, 'isos')],
  });
  const server = await startAgentServer({
    routes: consoles.routes,
    host: config.listen.host,
    port: config.listen.port,
    tls: { key: identity.key, cert: identity.cert },
    agentId,
    fingerprint: identity.fingerprint,
    trustedKeys,
    handlers,
    log,
    version: VERSION,
    ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
    ...(config.maxTokenLifetimeSeconds ? { maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds } : {}),
  });
  // The route table (paths and scopes) is part of this line: operators see what is served, the frame fuzz reads it.
  log.info({ agentId, port: server.port, host: config.listen.host, fingerprint: identity.fingerprint, version: VERSION, routes: server.routes() }, 'agent listening');

  // A rescue system booted from the controller's apkovl reports itself (never blocks the start; stops at stop).
  const enrolment = new AbortController();
  if (config.enrol) {
    const request = { token: config.enrol.token, agentId, fingerprint: identity.fingerprint, port: server.port, version: VERSION };
    void enrolAtBoot({ url: config.enrol.url, request, stateDir: config.stateDir, log, signal: enrolment.signal }).catch((err: unknown) => log.error({ err }, 'enrolment failed'));
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    enrolment.abort();
    log.info({ signal }, 'stopping: cancelling jobs and restoring devices');
    await jobs.shutdown();
    await consoles.close();
    await server.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`xepa-agent ${VERSION}\n${AGENT_USAGE}\n`);
} else {
  let config: AgentConfig;
  try {
    config = loadAgentConfig(argv);
  } catch (err) {
    process.stderr.write(`xepa-agent: ${isXepaError(err) ? err.message : String(err)}\n${AGENT_USAGE}\n`);
    process.exit(2);
  }
  // pino to stdout, created once here; tokens never reach the log (redacted if a header ever does), and every URL
  // in it is shown redacted (agent/agent-log.ts).
  const log = createAgentLog(config.logLevel);
  main(log, config).catch((err) => {
    log.fatal({ err }, 'agent failed to start');
    process.exit(1);
  });
}
