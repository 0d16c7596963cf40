import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreConfig } from '../../../controller/plane/store/index.js';
import { REPO } from '../../support/paths.js';
import { startScriptedAgent, type ScriptedAgent } from '../../support/scripted-agent.js';
import { ENGINES, useEngine } from '../../support/store-engines.js';
import { waitFor } from '../../support/wait-for.js';

// Two replicas in their own processes share one store; replica A drives a job of a real agent server, is killed
// with SIGKILL mid-way, and B takes the job over when A's lease runs out. Proven from the store (every event once,
// none missing) and from the agent's side (never two followers at once; B resumed from A's last stored seq).
const CHILD = join(REPO, 'test', 'support', 'replica-child.ts');
const VITE_NODE = join(REPO, 'node_modules', '.bin', 'vite-node');
const TTL_MS = 1500;
const POLL_MS = 100;
const EVENTS = 80;
const INTERVAL_MS = 40;

interface ReplicaProc {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  ready: Promise<void>;
}

const keys = generateKeyPairSync('ed25519');
const procs: ReplicaProc[] = [];
const agents: ScriptedAgent[] = [];

function startReplicaProcess(name: string, config: StoreConfig): ReplicaProc {
  const child = spawn(VITE_NODE, [CHILD], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      XEPA_STORE: JSON.stringify(config),
      XEPA_REPLICA: name,
      XEPA_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      XEPA_LEASE_TTL_MS: String(TTL_MS),
      XEPA_POLL_MS: String(POLL_MS),
    },
  });
  const lines: Record<string, unknown>[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const v = JSON.parse(l) as Record<string, unknown>;
      lines.push(v);
      if (v.ready) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`replica ${name} exited (${code ?? signal}) before it was ready`)));
  });
  ready.catch(() => undefined);
  const p = { child, lines, ready };
  procs.push(p);
  return p;
}

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      const gone = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGKILL');
      await gone;
    }
  }
  for (const a of agents.splice(0)) await a.close();
});

describe.each(ENGINES)('replica takeover on %s', (engine) => {
  const fx = useEngine(engine);

  it('a replica killed with SIGKILL mid-job is replaced within the lease time: no event lost, none stored twice, never two followers', async () => {
    const agent = await startScriptedAgent({ trustedKey: keys.publicKey, events: EVENTS, intervalMs: INTERVAL_MS });
    agents.push(agent);
    const config = await fx.fresh();
    const store = await fx.open(config);
    await store.putAgent({ id: agent.agentId, address: `127.0.0.1:${agent.port}`, fingerprint: agent.fingerprint });
    const job = await store.recordJob({ agentId: agent.agentId, agentJobId: 'job-1', request: { iso: 'scripted' } });

    const a = startReplicaProcess('replica-a', config);
    await a.ready;
    await waitFor(async () => (await store.getJob(job.id))?.lease?.owner === 'replica-a', { what: 'replica A to lease the job', timeoutMs: 30_000 });
    const b = startReplicaProcess('replica-b', config); // the standby polls all along
    await b.ready;
    await waitFor(async () => (await store.lastStoredSeq(job.id)) >= 20, { what: 'A to store 20 events', timeoutMs: 30_000 });
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));

    const done = await waitFor(async () => {
      const j = await store.getJob(job.id);
      return j?.state === 'done' ? j : undefined;
    }, { what: 'B to store the terminal event', timeoutMs: 60_000 });
    const events = await store.listEvents(job.id);

    // the store: every event of the agent, once, in order; A's first, then B's
    expect(events.map((e) => e.seq)).toEqual(agent.emitted.map((e) => e.seq));
    expect(events.length).toBe(EVENTS);
    expect(done.lastSeq).toBe(EVENTS);
    const owners = events.map((e) => e.storedBy);
    const storedByA = owners.filter((o) => o === 'replica-a').length; // counted at the end: a COMMIT A sent just before dying still counts
    const firstOfB = owners.indexOf('replica-b');
    expect(storedByA).toBeGreaterThanOrEqual(20);
    expect(firstOfB).toBe(storedByA);
    expect(owners.slice(firstOfB).every((o) => o === 'replica-b')).toBe(true);

    // the agent: one follower at a time, A from the start, B from the last seq A had stored
    expect(agent.maxConcurrent()).toBe(1);
    expect(agent.subscriptions.map((s) => s.after)).toEqual([0, storedByA]);
    const [subA, subB] = agent.subscriptions;
    expect(subA!.closedAt).toBeLessThanOrEqual(subB!.openedAt);
    const takeoverMs = subB!.openedAt - killedAt;
    // B waited for A's lease to run out (A renewed it every TTL/3 until it died), and took over soon after
    expect(takeoverMs).toBeGreaterThanOrEqual(TTL_MS - Math.floor(TTL_MS / 3) - 100);
    expect(takeoverMs).toBeLessThan(TTL_MS + 5 * POLL_MS + 3000);

    // the install was never interrupted: the agent emitted at its pace, whoever followed
    expect(agent.emitted.length).toBe(EVENTS);
    const outcome = await waitFor(() => b.lines.find((l) => l.job === job.id), { what: "B's outcome of the job", timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ outcome: 'finished', lastSeq: EVENTS });
    expect((await store.getJob(job.id))!.lease).toBeNull();
    console.log(`[${engine}] takeover: A killed after storing ${storedByA} events; B followed ${takeoverMs} ms later (lease ${TTL_MS} ms)`);
  });
});
