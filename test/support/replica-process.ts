import { createPrivateKey } from 'node:crypto';
import { destination, pino } from 'pino';
import { agentConnector, startReplica } from '../../controller/plane/driver/index.js';
import { openStore, type StoreConfig } from '../../controller/plane/store/index.js';

// One control-plane replica as its own process, for the takeover test and benchmark: it drives every job it can
// lease and prints one JSON line per outcome after a first `{ ready }` line. Config from the environment:
// XEPA_STORE (a StoreConfig as JSON), XEPA_REPLICA (its name), XEPA_KEY (the controller's private key, PEM),
// XEPA_LEASE_TTL_MS, XEPA_POLL_MS. SIGTERM stops it cleanly; the tests use SIGKILL.
export async function runReplicaFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = JSON.parse(env.XEPA_STORE ?? '') as StoreConfig;
  const replica = env.XEPA_REPLICA ?? 'replica';
  const { store } = await openStore(config);
  const r = startReplica({
    store,
    replica,
    connect: agentConnector(createPrivateKey(env.XEPA_KEY ?? '')),
    leaseTtlMs: Number(env.XEPA_LEASE_TTL_MS ?? 1500),
    pollMs: Number(env.XEPA_POLL_MS ?? 100),
    log: pino({ level: 'warn' }, destination(2)),
    onOutcome: (job, o) => process.stdout.write(`${JSON.stringify({ job, ...o })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ready: replica, pid: process.pid })}\n`);
  process.once('SIGTERM', () => void r.stop().then(() => store.close()).then(() => process.exit(0)));
}
