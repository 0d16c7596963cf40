import { generateKeyPairSync } from 'node:crypto';
import { existsSync, promises as fs, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TLS_CERT_FILE, TLS_KEY_FILE, ensureTlsIdentity } from '../agent/api/index.js';
import { startVm } from '../agent/vm/index.js';
import { ensureTestIso } from '../build/test-iso/index.js';
import { blastDown, blastEcho, blastUp, startBlastServer } from './console-blast.js';
import { treeCpuSeconds } from './console-cpu.js';
import { GUEST_READY, buildConsoleGuest, consoleGuestSpec } from './console-guest.js';
import { directPath, startWebsockify, type ConsolePath, xepaPath } from './console-paths.js';
import type { ConsoleProxyConfig } from './console-proxy-role.js';
import { RfbClient } from './console-rfb-client.js';
import { startRole } from './load-child.js';

// The console benchmark (issue 4): the XEPA agent's /v1/vnc against websockify and against QEMU's own socket,
// interleaved in the same run (the order rotates every round): connect+auth time, RFB time to the first full
// frame, full-frame rate and request cycle at 1920x1080 with a guest that keeps redrawing, raw tunnel
// throughput both ways and the proxy's CPU-seconds per GB. Results: bench/results/console.json.

const ROUNDS = Number(process.env.XEPA_BENCH_CONSOLE_ROUNDS ?? 3);
const FRAME_SECONDS = Number(process.env.XEPA_BENCH_CONSOLE_FRAME_S ?? 5);
const TUNNEL_BYTES = Number(process.env.XEPA_BENCH_CONSOLE_MB ?? 512) << 20;
const CONNECTS = 10;
const now = (): number => performance.now();
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** What one round measured on one path. */
interface Sample {
  connectMs: number[];
  firstFrameMs: number;
  fps: number;
  frameMBps: number;
  cycleMs: number; // median time from a full-screen request to the whole update
  rttMs: number[]; // one byte through the tunnel and back (the blast upstream echoes it): the proxy's added latency
  frameCpuSPerGB?: number;
  downMBps: number;
  upMBps: number;
  downCpuSPerGB?: number;
  upCpuSPerGB?: number;
  upRandomMaskMBps?: number;
  upRandomMaskCpuSPerGB?: number;
}

const cpuOf = (p: ConsolePath, up: 'vm' | 'blast'): number | undefined => (p.proxyPid ? treeCpuSeconds(p.proxyPid(up)) : undefined);
const perGB = (cpu0: number | undefined, cpu1: number | undefined, bytes: number): number | undefined =>
  cpu0 === undefined || cpu1 === undefined ? undefined : Math.round(((cpu1 - cpu0) / (bytes / 1e9)) * 100) / 100;

// Connect+auth (TLS, upgrade, token check) to the blast upstream, CONNECTS times.
async function connects(p: ConsolePath): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const t0 = now();
    const c = await p.open('blast');
    ms.push(now() - t0);
    c.blast().close();
  }
  return ms;
}

// First full frame, then full-screen requests back to back for FRAME_SECONDS.
async function frames(p: ConsolePath): Promise<Pick<Sample, 'firstFrameMs' | 'fps' | 'frameMBps' | 'cycleMs' | 'frameCpuSPerGB'>> {
  const t0 = now();
  const rfb = await RfbClient.connect((await p.open('vm')).rfb());
  const first = rfb.nextUpdate();
  rfb.requestUpdate(false);
  if (!(await first).full) throw new Error(`${p.name}: first update was not the full screen`);
  const firstFrameMs = now() - t0;
  if (rfb.width !== 1920 || rfb.height !== 1080) throw new Error(`${p.name}: the guest screen is ${rfb.width}x${rfb.height}, not 1920x1080`);
  const cpu0 = cpuOf(p, 'vm');
  const start = now();
  const cycles: number[] = [];
  let full = 0;
  let bytes = 0;
  while (now() - start < FRAME_SECONDS * 1000) {
    const c0 = now();
    const u = rfb.nextUpdate();
    rfb.requestUpdate(false);
    const upd = await u;
    cycles.push(now() - c0);
    if (upd.full) full++;
    bytes += upd.pixelBytes;
  }
  const secs = (now() - start) / 1000;
  const cpu1 = cpuOf(p, 'vm');
  rfb.close();
  const s = { firstFrameMs, fps: full / secs, frameMBps: bytes / secs / 1e6, cycleMs: median(cycles) };
  const cpu = perGB(cpu0, cpu1, bytes);
  return cpu === undefined ? s : { ...s, frameCpuSPerGB: cpu };
}

// Raw bytes through the tunnel in one direction; MB/s and the proxy's CPU-s/GB.
async function tunnel(p: ConsolePath, dir: 'down' | 'up', mask: 'zero' | 'random' = 'zero'): Promise<{ mbps: number; cpu?: number }> {
  const link = (await p.open('blast', mask)).blast();
  const cpu0 = cpuOf(p, 'blast');
  const t0 = now();
  if (dir === 'down') await blastDown(link, TUNNEL_BYTES);
  else await blastUp(link, TUNNEL_BYTES);
  const secs = (now() - t0) / 1000;
  const cpu1 = cpuOf(p, 'blast');
  link.close();
  const cpu = perGB(cpu0, cpu1, TUNNEL_BYTES);
  return cpu === undefined ? { mbps: TUNNEL_BYTES / secs / 1e6 } : { mbps: TUNNEL_BYTES / secs / 1e6, cpu };
}

// Runs the benchmark and writes bench/results/console.json; returns the Markdown table it prints.
export async function runConsoleBench(root: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'xepa-console-bench-'));
  const loadBefore = loadavg()[0]!;
  const log = pino({ level: 'silent' });
  const tlsDir = join(work, 'tls');
  const id = await ensureTlsIdentity(tlsDir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const iso = await ensureTestIso({ kernel: 'generic' }); // vesafb: the 1080p framebuffer
  const initrd = await buildConsoleGuest(work, 'fb1080');
  const vm = await startVm(consoleGuestSpec({ name: 'xepa-console-bench', dir: work, kernel: iso.kernel, initrd, mode: 'fb1080' }), { log });
  const targets = { vm: join(work, 'vnc.sock'), blast: join(work, 'blast.sock') };
  const blast = await startBlastServer(targets.blast);
  const cfg: ConsoleProxyConfig = { tlsDir, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), agentId: 'agent-bench', targets };
  const proxy = startRole<{ port: number }>('console-proxy', { XEPA_CONSOLE_PROXY: JSON.stringify(cfg) });
  let websockify: Awaited<ReturnType<typeof startWebsockify>> | undefined;
  try {
    const serial = join(work, 'serial0.log');
    while (!(existsSync(serial) && readFileSync(serial, 'latin1').includes(GUEST_READY.fb1080))) {
      if (vm.qmp.closed) throw new Error('the benchmark guest ended before drawing');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { port } = await proxy.first;
    websockify = await startWebsockify({ cert: join(tlsDir, TLS_CERT_FILE), key: join(tlsDir, TLS_KEY_FILE), fingerprint: id.fingerprint, targets });
    const paths: ConsolePath[] = [xepaPath({ port, fingerprint: id.fingerprint, agentId: 'agent-bench', privateKey, pid: proxy.child.pid! }), websockify.path, directPath(targets)];
    const samples = new Map<string, Sample[]>(paths.map((p) => [p.name, []]));
    for (let round = 0; round <= ROUNDS; round++) {
      const order = paths.map((_, i) => paths[(i + round) % paths.length]!); // interleaved, rotating
      const got = new Map<string, Partial<Sample>>();
      await vm.qmp.execute('cont');
      for (const p of order) got.set(p.name, { ...(await frames(p)), connectMs: await connects(p) });
      await vm.qmp.execute('stop'); // the tunnel phase gets the CPU the guest would use
      for (const p of order) {
        const echo = (await p.open('blast')).blast();
        got.get(p.name)!.rttMs = await blastEcho(echo, 200);
        echo.close();
        const down = await tunnel(p, 'down');
        const up = await tunnel(p, 'up');
        const s = got.get(p.name)!;
        Object.assign(s, { downMBps: down.mbps, upMBps: up.mbps }, down.cpu !== undefined ? { downCpuSPerGB: down.cpu } : {}, up.cpu !== undefined ? { upCpuSPerGB: up.cpu } : {});
        if (p.name !== 'direct') {
          const browserLike = await tunnel(p, 'up', 'random');
          Object.assign(s, { upRandomMaskMBps: browserLike.mbps, ...(browserLike.cpu !== undefined ? { upRandomMaskCpuSPerGB: browserLike.cpu } : {}) });
        }
      }
      if (round > 0) for (const p of paths) samples.get(p.name)!.push(got.get(p.name) as Sample); // round 0 warms up
      process.stderr.write(`console bench: round ${round}/${ROUNDS} done\n`);
    }
    const summary = Object.fromEntries([...samples].map(([name, ss]) => [name, summarize(ss)]));
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cores: (await import('node:os')).cpus().length,
      loadAverage: { before: loadBefore, after: loadavg()[0]! }, // other work on the machine inflates every figure
      rounds: ROUNDS,
      frameSeconds: FRAME_SECONDS,
      tunnelMiB: TUNNEL_BYTES >> 20,
      guest: '1920x1080x32 VESA framebuffer redrawn continuously (TCG); full-screen non-incremental raw requests',
      notes:
        'medians over rounds; connect = TLS + WebSocket upgrade (+ token check for xepa; websockify has none) to the blast upstream; ' +
        'CPU = the proxy process tree (/proc), websockify forks per connection; the client masks frames with a zero key ' +
        '(what the XEPA controller sends) unless "randomMask" (what a browser sends); direct = QEMU\'s unix socket, no TLS.',
      paths: summary,
    };
    await fs.mkdir(join(root, 'bench', 'results'), { recursive: true });
    await fs.writeFile(join(root, 'bench', 'results', 'console.json'), `${JSON.stringify(result, null, 2)}\n`);
    const table = markdownTable(summary);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n\n${table}\n`);
    return table;
  } finally {
    await websockify?.stop();
    await proxy.stop();
    await blast.close();
    await vm.stop(5000);
    await fs.rm(work, { recursive: true, force: true });
  }
}

type Summary = Record<string, number | undefined>;

const nearestRank = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

function summarize(ss: Sample[]): Summary {
  const m = (f: (s: Sample) => number | undefined): number | undefined => {
    const xs = ss.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  return {
    connectMs: median(ss.flatMap((s) => s.connectMs)),
    connectP10Ms: nearestRank(ss.flatMap((s) => s.connectMs), 10),
    connectP90Ms: nearestRank(ss.flatMap((s) => s.connectMs), 90),
    firstFrameMs: m((s) => s.firstFrameMs),
    fps: m((s) => s.fps),
    frameMBps: m((s) => s.frameMBps),
    cycleMs: m((s) => s.cycleMs),
    rttMs: median(ss.flatMap((s) => s.rttMs)),
    rttP90Ms: nearestRank(ss.flatMap((s) => s.rttMs), 90),
    frameCpuSPerGB: m((s) => s.frameCpuSPerGB),
    downMBps: m((s) => s.downMBps),
    downCpuSPerGB: m((s) => s.downCpuSPerGB),
    upMBps: m((s) => s.upMBps),
    upCpuSPerGB: m((s) => s.upCpuSPerGB),
    upRandomMaskMBps: m((s) => s.upRandomMaskMBps),
    upRandomMaskCpuSPerGB: m((s) => s.upRandomMaskCpuSPerGB),
  };
}

function markdownTable(summary: Record<string, Summary>): string {
  const rows: [string, keyof Summary][] = [
    ['connect + auth (ms), median', 'connectMs'],
    ['connect + auth (ms), p10', 'connectP10Ms'],
    ['RFB first full frame (ms)', 'firstFrameMs'],
    ['1080p full frames/s', 'fps'],
    ['1080p full-screen request cycle (ms)', 'cycleMs'],
    ['round trip, 1 byte (ms), median', 'rttMs'],
    ['round trip, 1 byte (ms), p90', 'rttP90Ms'],
    ['proxy CPU-s/GB, 1080p frames', 'frameCpuSPerGB'],
    ['tunnel down (MB/s)', 'downMBps'],
    ['proxy CPU-s/GB down', 'downCpuSPerGB'],
    ['tunnel up (MB/s)', 'upMBps'],
    ['proxy CPU-s/GB up', 'upCpuSPerGB'],
    ['tunnel up, random mask (MB/s)', 'upRandomMaskMBps'],
    ['proxy CPU-s/GB up, random mask', 'upRandomMaskCpuSPerGB'],
  ];
  const names = Object.keys(summary);
  const fmt = (v: number | undefined): string => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2));
  return [
    `| | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...rows.map(([label, key]) => `| ${label} | ${names.map((n) => fmt(summary[n]![key])).join(' | ')} |`),
  ].join('\n');
}
