import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { benchController } from './load-controller.js';
import { fakeAgentsRole } from './load-fake-agents.js';
import { benchFetch, fetchRole, fileServerRole } from './load-fetch.js';
import { benchVnc } from './load-vnc.js';
import { runReplicaFromEnv } from '../test/support/replica-process.js';

// The load benchmarks of docs/reliability.md, and the child-process roles they start. Selected with
// XEPA_BENCH=load (only these), spine, or all (the default); results go to bench/results/load-*.json.

// Runs the role this process was started for (XEPA_BENCH_ROLE); false when it was started for none.
export async function runBenchRole(role: string | undefined): Promise<boolean> {
  if (!role) return false;
  const roles: Record<string, () => Promise<void>> = {
    'file-server': fileServerRole, fetch: fetchRole, 'fake-agents': fakeAgentsRole, 'plane-replica': () => runReplicaFromEnv(),
  };
  const run = roles[role];
  if (!run) throw new Error(`unknown bench role ${role}`);
  await run();
  return true;
}

// Runs every load benchmark (or those named in XEPA_BENCH_LOAD: fetch,controller,vnc) and writes their results.
export async function runLoadBenchmarks(root: string): Promise<void> {
  const only = (process.env.XEPA_BENCH_LOAD ?? 'fetch,controller,vnc').split(',');
  const results = join(root, 'bench', 'results');
  await fs.mkdir(results, { recursive: true });
  const os = await import('node:os');
  // The load average says how shared the machine was: figures from a busy CI host are not a quiet server's.
  const common = { date: new Date().toISOString(), node: process.version, cores: os.cpus().length, loadAverage1m: Math.round(os.loadavg()[0]! * 10) / 10 };
  if (only.includes('controller')) {
    const agents = Number(process.env.XEPA_BENCH_AGENTS ?? 500);
    await write(join(results, 'load-controller.json'), { ...common, ...(await benchController({ agents })) });
  }
  if (only.includes('vnc')) {
    const viewers = Number(process.env.XEPA_BENCH_VIEWERS ?? 20);
    await write(join(results, 'load-vnc.json'), { ...common, ...(await benchVnc(root, { viewers })) });
  }
  if (only.includes('fetch')) {
    const sizes = (process.env.XEPA_BENCH_FETCH_MIB ?? '256,1024').split(',').map(Number);
    await write(join(results, 'load-fetch.json'), { ...common, ...(await benchFetch({ sizesMiB: sizes })) });
  }
}

async function write(path: string, result: Record<string, unknown>): Promise<void> {
  await fs.writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${path}`);
}
