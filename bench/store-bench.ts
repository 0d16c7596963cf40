import { execFileSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { JobEvent } from '../agent/protocol/index.js';
import { openStore, type Store, type StoreConfig } from '../controller/plane/store/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { percentiles } from './load-child.js';

// SQLite vs PostgreSQL: job events stored per second through the Store (lease check, idempotent insert, job row
// update, one transaction per append), durable settings on both: SQLite WAL + synchronous=NORMAL (the store's
// default), PostgreSQL with fsync and synchronous_commit on, its data directory next to the SQLite file.
// Result: bench/results/store.json.

const FP = '12'.repeat(32);
const event = (job: string, seq: number): JobEvent => ({ job, seq, ts: new Date().toISOString(), state: 'running', message: `step ${seq} of a scripted install`, detail: { progress: seq } });

/** One scenario's figures. */
interface Figures {
  events: number;
  appends: number;
  wallMs: number;
  eventsPerSecond: number;
  appendLatencyMs: Record<string, number>;
}

let serial = 0;
async function jobs(store: Store, n: number, replica: string): Promise<{ id: string; agentJobId: string }[]> {
  await store.putAgent({ id: 'bench', address: '127.0.0.1:7443', fingerprint: FP });
  const out: { id: string; agentJobId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const agentJobId = `job-${++serial}`;
    const { id } = await store.recordJob({ agentId: 'bench', agentJobId });
    await store.acquireJobLease(id, replica, 600_000);
    out.push({ id, agentJobId });
  }
  return out;
}

// `jobCount` jobs followed at once, each receiving `perJob` events in appends of `batch` events.
async function scenario(store: Store, o: { jobCount: number; perJob: number; batch: number }): Promise<Figures> {
  const ids = await jobs(store, o.jobCount, 'bench-replica');
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(ids.map(async ({ id, agentJobId }) => {
    for (let seq = 1; seq <= o.perJob; seq += o.batch) {
      const batch = Array.from({ length: Math.min(o.batch, o.perJob - seq + 1) }, (_, i) => event(agentJobId, seq + i));
      const t = performance.now();
      await store.appendEvents(id, 'bench-replica', batch);
      latencies.push(performance.now() - t);
    }
  }));
  const wallMs = performance.now() - t0;
  const events = o.jobCount * o.perJob;
  return { events, appends: latencies.length, wallMs: Math.round(wallMs), eventsPerSecond: Math.round((events / wallMs) * 1000), appendLatencyMs: percentiles(latencies, [50, 99]) };
}

async function runOn(config: StoreConfig): Promise<Record<string, Figures>> {
  const { store } = await openStore(config);
  try {
    return {
      oneJobOneEventPerAppend: await scenario(store, { jobCount: 1, perJob: 2000, batch: 1 }),
      oneJobBatchesOf50: await scenario(store, { jobCount: 1, perJob: 10_000, batch: 50 }),
      fiftyJobsAtOnceOneEventPerAppend: await scenario(store, { jobCount: 50, perJob: 100, batch: 1 }),
    };
  } finally {
    await store.close();
  }
}

// Runs the comparison and writes bench/results/store.json.
export async function runStoreBench(root: string): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'xepa-store-bench-'));
  const pg = await startPostgres({ durable: true });
  try {
    const sqlite = await runOn({ engine: 'sqlite', file: join(dir, 'bench.sqlite') });
    const postgres = await runOn({ engine: 'postgres', connection: pg.connection(await pg.createDatabase('xepa_bench')), poolSize: 10 });
    const fsType = (path: string): string => execFileSync('df', ['--output=fstype', path], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? '?';
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cores: os.cpus().length,
      loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10,
      filesystem: { sqlite: fsType(dir), postgres: fsType(pg.dir) },
      sqlite,
      postgres,
      notes:
        'events stored per second through Store.appendEvents (lease check, idempotent INSERT, job row update, one transaction per append); ' +
        'SQLite: one file, WAL, synchronous=NORMAL, its writers queued in one process; PostgreSQL 15: local unix socket, fsync and synchronous_commit on, ' +
        'pool of 10; both on the filesystem named (tmpfs makes fsync free: a disk is slower for both)',
    };
    const out = join(root, 'bench', 'results', 'store.json');
    await fs.mkdir(join(root, 'bench', 'results'), { recursive: true });
    await fs.writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${out}`);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
