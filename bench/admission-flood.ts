import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateControllerKeys, loadControllerKey, mintToken } from '../controller/auth/index.js';
import { startLocalAgent, type LocalAgent } from '../controller/demo/local-agent.js';
import { createFloodNet, type FloodNet } from './flood-net.js';

// Admission under flood (issue 11): the real agent bundle listens on a veth address; flooders in namespaces of
// their own hold idle TLS connections, slow headers or raw TCP connects, while a legitimate client in another
// namespace connects, upgrades and says hello again and again. Used by the integration test (which asserts the
// success rate) and by `npm run bench` (XEPA_BENCH=admission, which records bench/results/admission-flood.json).

/** What floods the agent during a round: nothing (the baseline) or one kind of unauthenticated connection. */
export type FloodKind = 'none' | 'idle-tls' | 'slow-headers' | 'raw-tcp';
export const FLOOD_KINDS: readonly FloodKind[] = ['none', 'idle-tls', 'slow-headers', 'raw-tcp'];

/** How large a flood is: flooding hosts, connections each keeps open, and the bounds of each flooder. */
export interface FloodSize {
  flooders: number; // namespaces that flood (the legitimate client has one more of its own)
  hold: number; // connections each flooder keeps open, reopening each one the agent closes
  maxConnects: number; // per flooder and round
  ratePerSec: number; // per flooder: connects it opens at most per second (its first `hold` included)
  attempts: number; // the legitimate client's connect+upgrade+hello attempts per round
}

/** One round's figures. */
export interface FloodRound {
  kind: FloodKind;
  attempts: number;
  ok: number;
  successRate: number; // 0..1
  connectMs: { p50: number; p99: number; max: number }; // TCP + TLS + upgrade, successful attempts
  helloMs: { p50: number; p99: number }; // the above plus one hello answered
  failures: string[]; // the first few, as the client saw them
  flooders: { connects: number; established: number; closedByAgent: number; byDeadline: boolean }[]; // byDeadline: it stopped before the client finished
}

/** A running agent in a flood network, with a control token for the legitimate client. */
export interface FloodSetup {
  net: FloodNet;
  agent: LocalAgent;
  url: string;
  token: string;
}

const here = dirname(fileURLToPath(import.meta.url));
// The scripts live beside this file in the source tree; the bench bundle runs from dist/, one level down from root.
const scriptDir = async (): Promise<string> => {
  for (const d of [join(here, 'flood'), join(here, '..', 'bench', 'flood'), join(process.cwd(), 'bench', 'flood')]) {
    if (await fs.stat(join(d, 'flooder.mjs')).then(() => true, () => false)) return d;
  }
  throw new Error('bench/flood/flooder.mjs not found');
};

// Nearest-rank percentile of an ascending list.
const pct = (xs: number[], p: number): number => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]! : NaN);

// Creates the namespaces (flooders + 1), starts the agent bundle on the root side, runs `fn`, and tears all down.
export async function withFloodSetup<T>(bundle: string, size: FloodSize, fn: (s: FloodSetup) => Promise<T>): Promise<T> {
  const work = await fs.mkdtemp(join(tmpdir(), 'xepa-flood-'));
  const net = await createFloodNet(size.flooders + 1);
  let agent: LocalAgent | undefined;
  try {
    const keys = await generateControllerKeys(join(work, 'controller'));
    const key = await loadControllerKey(join(work, 'controller'));
    agent = await startLocalAgent({
      bundle,
      stateDir: join(work, 'agent'),
      trustedKeyFile: keys.publicKeyPath,
      extraArgs: ['--accel', 'tcg', '--host', net.agentAddress],
    });
    const url = `wss://${net.agentAddress}:${new URL(agent.url).port}`;
    const token = mintToken(key.privateKey, { agentId: agent.agentId, scope: ['control'], ttlSeconds: 600 });
    return await fn({ net, agent, url, token });
  } finally {
    await agent?.stop();
    await net.destroy();
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The JSON lines a child prints, kept from its start so that no line is missed between two waits. */
interface ChildLines {
  until<T>(pred: (x: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<T>;
}

// Collects a child's JSON stdout lines; until() resolves with the first (past or future) line satisfying `pred`,
// and rejects when the child has exited without one or on timeout.
function linesOf(child: ChildProcess): ChildLines {
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let exited: number | null | undefined;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  child.once('close', (code) => {
    exited = code;
    for (const w of [...waiters]) w();
  });
  return {
    until: <T>(pred: (x: Record<string, unknown>) => boolean, timeoutMs: number, what: string) =>
      new Promise<T>((resolve, reject) => {
        const done = (): void => {
          waiters.delete(check);
          clearTimeout(timer);
        };
        const check = (): void => {
          const hit = lines.find(pred);
          if (hit) return void (done(), resolve(hit as T));
          if (exited !== undefined) return void (done(), reject(new Error(`${what}: the process exited (${exited}) without it`)));
        };
        const timer = setTimeout(() => (done(), reject(new Error(`no ${what} within ${timeoutMs} ms`))), timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

// One round: flooders (hosts 1..n) reach their hold, the legitimate client (host 0) makes its attempts, flooders stop.
export async function floodRound(s: FloodSetup, size: FloodSize, kind: FloodKind): Promise<FloodRound> {
  const dir = await scriptDir();
  const port = Number(new URL(s.url).port);
  const flooders: ChildProcess[] = [];
  const floodLines: ChildLines[] = [];
  const clientBudgetMs = size.attempts * 11_000;
  try {
    if (kind !== 'none') {
      for (let i = 1; i <= size.flooders; i++) {
        const arg = { kind, host: s.net.agentAddress, port, hold: size.hold, durationMs: clientBudgetMs + 60_000, maxConnects: size.maxConnects, ratePerSec: size.ratePerSec };
        const f = s.net.spawnIn(i, join(dir, 'flooder.mjs'), JSON.stringify(arg));
        flooders.push(f);
        floodLines.push(linesOf(f));
      }
      await Promise.all(floodLines.map((f) => f.until((x) => x.ready === true, 20_000, 'flooder ready')));
    }
    const client = s.net.spawnIn(0, join(dir, 'legit-client.mjs'), JSON.stringify({ url: s.url, token: s.token, attempts: size.attempts, timeoutMs: 10_000 }));
    type Summary = { attempts: number; ok: number; connectMs: number[]; helloMs: number[]; failures: string[] };
    const r = await linesOf(client).until<Summary>((x) => typeof x.attempts === 'number', clientBudgetMs, 'client summary');
    // A flooder that ended by its own deadline before the client finished would be a weaker flood than claimed.
    const done = floodLines.map((f) => f.until<FloodRound['flooders'][number]>((x) => x.done === true, 30_000, 'flooder summary'));
    for (const f of flooders) f.kill('SIGTERM');
    const floods = await Promise.all(done);
    const connect = [...r.connectMs].sort((a, b) => a - b);
    const hello = [...r.helloMs].sort((a, b) => a - b);
    return {
      kind,
      attempts: r.attempts,
      ok: r.ok,
      successRate: r.ok / r.attempts,
      connectMs: { p50: pct(connect, 50), p99: pct(connect, 99), max: connect.at(-1) ?? NaN },
      helloMs: { p50: pct(hello, 50), p99: pct(hello, 99) },
      failures: r.failures,
      flooders: floods.map(({ connects, established, closedByAgent, byDeadline }) => ({ connects, established, closedByAgent, byDeadline })),
    };
  } finally {
    for (const f of flooders) if (f.exitCode === null && f.signalCode === null) f.kill('SIGKILL');
  }
}

// The benchmark: every flood kind in one run against one agent; writes bench/results/admission-flood.json.
export async function runAdmissionFloodBench(root: string): Promise<void> {
  const size: FloodSize = {
    flooders: Number(process.env.XEPA_BENCH_FLOODERS ?? 4),
    hold: Number(process.env.XEPA_BENCH_FLOOD_HOLD ?? 150),
    maxConnects: 20_000,
    ratePerSec: Number(process.env.XEPA_BENCH_FLOOD_RATE ?? 100),
    attempts: Number(process.env.XEPA_BENCH_ATTEMPTS ?? 200),
  };
  const rounds = await withFloodSetup(join(root, 'dist', 'xepa-agent.mjs'), size, async (s) => {
    const out: FloodRound[] = [];
    for (const kind of FLOOD_KINDS) out.push(await floodRound(s, size, kind));
    return out;
  });
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
    size,
    goal: { successRate: 0.99, connectP99Ms: 250 },
    rounds,
    notes: 'real agent bundle on a veth address; each flooder in its own network namespace; the legitimate client in another, one new TLS connection per attempt',
  };
  const file = join(root, 'bench', 'results', 'admission-flood.json');
  await fs.mkdir(dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
}
