import { existsSync, mkdtempSync, promises as fs, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION } from '../agent/protocol/index.js';
import { ensureTestIso } from '../build/test-iso/index.js';
import { generateControllerKeys, loadControllerKey, mintToken } from '../controller/auth/index.js';
import { connectAgent } from '../controller/client/index.js';
import { startLocalAgent } from '../controller/demo/local-agent.js';
import { createLoopDisk } from '../controller/demo/loop-disk.js';
import { runAdmissionFloodBench } from './admission-flood.js';
import { runConsoleBench } from './console-bench.js';
import { consoleProxyRole } from './console-proxy-role.js';
import { runBenchRole, runLoadBenchmarks } from './load-run.js';
import { firstFrame } from './rfb.js';
import { runPlaneTakeoverBench } from './plane-takeover.js';
import { runStoreBench } from './store-bench.js';

// The spine's benchmark: agent bundle size, cold start to listening, idle RSS, and time from `install`
// to the first VNC frame (ISO already cached on the agent, so the download is excluded).
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'xepa-agent.mjs');
const RUNS = Number(process.env.XEPA_BENCH_RUNS ?? 5);

const stats = (xs: number[]): { median: number; min: number; max: number; runs: number } => {
  const s = [...xs].sort((a, b) => a - b).map((x) => Math.round(x * 10) / 10);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)!, runs: s.length };
};
const rssKiB = async (pid: number): Promise<number> =>
  Number(/VmRSS:\s+(\d+)/.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

async function main(): Promise<void> {
  if (!existsSync(bundle)) throw new Error('run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), 'xepa-bench-'));
  const keyDir = join(work, 'controller');
  const keys = await generateControllerKeys(keyDir);
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  const rss: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const stateDir = join(work, `state-${i}`);
      for (const list of [coldMs, warmMs]) {
        const t0 = performance.now();
        const agent = await startLocalAgent({ bundle, stateDir, trustedKeyFile: keys.publicKeyPath, extraArgs: ['--accel', 'tcg'] });
        list.push(performance.now() - t0);
        if (list === warmMs) {
          await new Promise((r) => setTimeout(r, 3000));
          rss.push(await rssKiB(agent.pid));
        }
        await agent.stop();
      }
    }
    const frame = await installToFirstFrame(work, keys.publicKeyPath, keyDir);
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      bundleBytes: statSync(bundle).size,
      coldStartToListeningMs: stats(coldMs),
      warmStartToListeningMs: stats(warmMs),
      idleRssKiB: stats(rss),
      installToFirstVncFrameMs: stats(frame.ms),
      vncScreen: frame.screen,
      notes: 'cold = first start, creates the TLS key and certificate; warm = state dir exists. First frame: ISO cached on the agent (download excluded), TCG.',
    };
    await fs.mkdir(join(root, 'bench', 'results'), { recursive: true });
    const out = join(root, 'bench', 'results', 'spine.json');
    await fs.writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${out}`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

// Installs the test ISO (already on the agent) and measures the time from the `install` call to the first frame.
async function installToFirstFrame(work: string, trustedKeyFile: string, keyDir: string): Promise<{ ms: number[]; screen: string }> {
  const iso = await ensureTestIso({});
  const stateDir = join(work, 'frame-agent');
  await fs.mkdir(join(stateDir, 'isos'), { recursive: true });
  await fs.copyFile(iso.iso, join(stateDir, 'isos', `${iso.sha256}.iso`)); // cached: no download in the figure
  const agent = await startLocalAgent({ bundle, stateDir, trustedKeyFile, extraArgs: ['--accel', 'tcg', '--allow-local-iso-urls'] }); // its (never fetched) ISO URL is on loopback
  const disk = await createLoopDisk(join(work, 'disk.img'), 128);
  const key = await loadControllerKey(keyDir);
  const client = await connectAgent({ url: agent.url, fingerprint: agent.fingerprint, token: () => mintToken(key.privateKey, { agentId: agent.agentId, scope: ['control'] }) });
  const ms: number[] = [];
  let screen = '';
  try {
    await client.call('hello', { protocol: PROTOCOL_VERSION });
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const t0 = performance.now();
      const job = await client.call('install', {
        iso: { url: 'http://127.0.0.1:9/never-fetched.iso', sha256: iso.sha256 },
        disks: [{ path: disk.device }],
        vm: { memoryMiB: 512 },
      });
      const vnc = job.consoles!.vnc;
      while (!existsSync(vnc)) await new Promise((r) => setTimeout(r, 20));
      const s = await firstFrame(vnc);
      ms.push(performance.now() - t0);
      screen = `${s.width}x${s.height}`;
      await client.call('job.cancel', { job: job.id });
      await client.followJob(job.id, { onEvent: () => {} });
    }
  } finally {
    client.close();
    await agent.stop();
    await disk.detach();
  }
  return { ms, screen };
}

// XEPA_BENCH_ROLE: a child process of a load or console benchmark; XEPA_BENCH: spine | load | console | admission | store | takeover | all (default).
if (process.env.XEPA_BENCH_ROLE === 'console-proxy') await consoleProxyRole();
else if (!(await runBenchRole(process.env.XEPA_BENCH_ROLE))) {
  const which = process.env.XEPA_BENCH ?? 'all';
  if (which === 'all' || which === 'spine') await main();
  if (which === 'all' || which === 'load') await runLoadBenchmarks(root);
  if (which === 'all' || which === 'console') await runConsoleBench(root);
  if (which === 'all' || which === 'admission') await runAdmissionFloodBench(root);
  if (which === 'all' || which === 'store') await runStoreBench(root);
  if (which === 'all' || which === 'takeover') await runPlaneTakeoverBench(root);
}
