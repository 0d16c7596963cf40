import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreConfig } from '../controller/plane/store/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { newTlsIdentity, startScriptedAgent, type ScriptedAgent } from '../test/support/scripted-agent.js';
import { percentiles, startRole, type BenchChild } from './load-child.js';

// Many concurrent jobs on two replicas over one PostgreSQL (durable settings), one replica killed with SIGKILL
// mid-way: how long its jobs wait for the other, and how many events are lost or stored twice. The agents are the
// real agent server with a scripted job (test/support/scripted-agent.ts), in this process; each replica is a
// child process of this bundle (role plane-replica). Result: bench/results/plane-takeover.json.

const JOBS = Number(process.env.XEPA_BENCH_PLANE_JOBS ?? 100);
const EVENTS = Number(process.env.XEPA_BENCH_PLANE_EVENTS ?? 60);
const INTERVAL_MS = Number(process.env.XEPA_BENCH_PLANE_INTERVAL_MS ?? 100);
const TTL_MS = Number(process.env.XEPA_BENCH_PLANE_TTL_MS ?? 3000);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Runs the benchmark and writes bench/results/plane-takeover.json.
export async function runPlaneTakeoverBench(root: string): Promise<void> {
  const keys = generateKeyPairSync('ed25519');
  const pg = await startPostgres({ durable: true, maxConnections: 100 });
  const agents: ScriptedAgent[] = [];
  const replicas: BenchChild<{ ready: string }>[] = [];
  try {
    const config: StoreConfig = { engine: 'postgres', connection: pg.connection(await pg.createDatabase('xepa_takeover')) };
    const { store } = await openStore(config);
    const tls = await newTlsIdentity();
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const agent = await startScriptedAgent({ trustedKey: keys.publicKey, events: EVENTS, intervalMs: INTERVAL_MS, agentId: `agent-${i}`, tls });
      agents.push(agent);
      await store.putAgent({ id: agent.agentId, address: `127.0.0.1:${agent.port}`, fingerprint: agent.fingerprint });
      jobIds.push((await store.recordJob({ agentId: agent.agentId, agentJobId: 'job-1' })).id);
    }
    const env = (name: string): Record<string, string> => ({
      XEPA_STORE: JSON.stringify(config), XEPA_REPLICA: name, XEPA_LEASE_TTL_MS: String(TTL_MS), XEPA_POLL_MS: '200',
      XEPA_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    for (const name of ['replica-a', 'replica-b']) replicas.push(startRole<{ ready: string }>('plane-replica', env(name)));
    await Promise.all(replicas.map((r) => r.first));
    const t0 = Date.now();
    await until('every job to be driven', 60_000, async () => (await store.listJobs({ active: true })).every((j) => j.lease !== null && j.lastSeq > 0));
    const drivenBy = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const j of await store.listJobs()) if (j.lease) out[j.lease.owner] = (out[j.lease.owner] ?? 0) + 1;
      return out;
    };
    const split = await drivenBy();
    // kill A half-way through the jobs
    await new Promise((r) => setTimeout(r, Math.max(0, (EVENTS * INTERVAL_MS) / 2 - (Date.now() - t0))));
    const victimJobs = new Set((await store.listJobs()).filter((j) => j.lease?.owner === 'replica-a').map((j) => j.agentId));
    const killedAt = Date.now();
    replicas[0]!.child.kill('SIGKILL');
    await replicas[0]!.exited;
    await until('every job to finish', 120_000, async () => (await store.listJobs({ active: true })).length === 0);
    const wallMs = Date.now() - t0;

    let lost = 0;
    let stored = 0;
    let distinct = 0;
    for (const id of jobIds) {
      const seqs = (await store.listEvents(id)).map((e) => e.seq);
      stored += seqs.length;
      distinct += new Set(seqs).size;
      lost += EVENTS - new Set(seqs).size;
    }
    const takeovers = agents.filter((a) => victimJobs.has(a.agentId)).map((a) => {
      const after = a.subscriptions.find((s) => s.openedAt >= killedAt);
      return after ? after.openedAt - killedAt : NaN;
    });
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cores: os.cpus().length,
      loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10,
      jobs: JOBS,
      eventsPerJob: EVENTS,
      eventIntervalMs: INTERVAL_MS,
      leaseTtlMs: TTL_MS,
      jobsPerReplicaBeforeKill: split,
      jobsTakenOver: victimJobs.size,
      takeoverMs: percentiles(takeovers.filter((t) => !Number.isNaN(t)), [50, 99, 100]),
      jobsNotTakenOver: takeovers.filter((t) => Number.isNaN(t)).length,
      eventsExpected: JOBS * EVENTS,
      eventsLost: lost,
      eventsStoredTwice: stored - distinct,
      maxFollowersOfOneJobAtOnce: Math.max(...agents.map((a) => a.maxConcurrent())),
      wallMs,
      notes:
        'takeover = time from the SIGKILL of replica A to replica B\'s job.events subscription on the agent, for each job A drove; ' +
        'the lease is renewed every ttl/3, so a job waits between 2/3 ttl and ttl plus one poll (200 ms); agents, both replicas and PostgreSQL share the machine',
    };
    await store.close();
    const out = join(root, 'bench', 'results', 'plane-takeover.json');
    await fs.mkdir(join(root, 'bench', 'results'), { recursive: true });
    await fs.writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${out}`);
  } finally {
    for (const r of replicas) await r.stop();
    for (const a of agents) await a.close();
    await pg.stop();
  }
}
