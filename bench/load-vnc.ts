import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateControllerKeys, loadControllerKey, mintToken } from '../controller/auth/index.js';
import { connectAgent } from '../controller/client/index.js';
import { openAgentStream } from '../controller/console/open-agent-stream.js';
import { serveFile } from '../controller/demo/file-server.js';
import { startLocalAgent } from '../controller/demo/local-agent.js';
import { createLoopDisk } from '../controller/demo/loop-disk.js';
import { PROTOCOL_VERSION, type Scope } from '../agent/protocol/index.js';
import { RfbClient, wsTransport } from './console-rfb-client.js';
import { memoryKiB, percentiles } from './load-child.js';

// One agent, one job, many VNC viewers and a control client: the agent bundle runs an install whose disk boots a
// 20-byte program that rewrites VGA text memory as fast as it can (every frame changes, the worst case for VNC);
// each viewer pulls raw-encoded updates as fast as it gets them, while a control client calls job.get every
// 100 ms. Reports the agent's and QEMU's CPU, the agent's RSS, updates per viewer and control round trips.

// cli; es = 0xb800; di = 0; loop: inc byte [es:di]; di = (di + 2) & 0xfff; jmp loop — then the boot signature.
function noiseBootSector(): Buffer {
  const s = Buffer.alloc(512);
  Buffer.from([0xfa, 0xb8, 0x00, 0xb8, 0x8e, 0xc0, 0x31, 0xff, 0x26, 0xfe, 0x05, 0x83, 0xc7, 0x02, 0x81, 0xe7, 0xff, 0x0f, 0xeb, 0xf4]).copy(s);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

// CPU time of a process so far, in ms (utime + stime from /proc/<pid>/stat, clock ticks of 10 ms).
async function cpuMs(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

// Runs the benchmark and returns the figures for bench/results/load-vnc.json.
export async function benchVnc(root: string, o: { viewers?: number; seconds?: number } = {}): Promise<Record<string, unknown>> {
  const viewers = o.viewers ?? 20;
  const seconds = o.seconds ?? 10;
  const work = mkdtempSync(join(tmpdir(), 'xepa-bench-vnc-'));
  const keys = await generateControllerKeys(join(work, 'controller'));
  const key = await loadControllerKey(join(work, 'controller'));
  const isoPath = join(work, 'noise.iso');
  const iso = randomBytes(1 << 20);
  await fs.writeFile(isoPath, iso);
  const files = await serveFile(isoPath);
  const disk = await createLoopDisk(join(work, 'disk.img'), 16);
  const agent = await startLocalAgent({ bundle: join(root, 'dist', 'xepa-agent.mjs'), stateDir: join(work, 'agent'), trustedKeyFile: keys.publicKeyPath, extraArgs: ['--accel', 'tcg', '--allow-local-iso-urls'] }); // its ISO server is on loopback
  const token = (scope: Scope[]): string => mintToken(key.privateKey, { agentId: agent.agentId, scope, ttlSeconds: 120 });
  const client = await connectAgent({ url: agent.url, fingerprint: agent.fingerprint, token: () => token(['control']) });
  const rfbs: RfbClient[] = [];
  try {
    const fh = await fs.open(disk.device, 'r+');
    await fh.write(noiseBootSector(), 0, 512, 0);
    await fh.close();
    await client.call('hello', { protocol: PROTOCOL_VERSION });
    const job = await client.call('install', {
      iso: { url: files.url, sha256: createHash('sha256').update(iso).digest('hex') },
      disks: [{ path: disk.device }],
      vm: { memoryMiB: 256, cpus: 1, bootOrder: 'disk-first' },
    });
    while ((await client.call('job.get', { job: job.id })).state !== 'running') await new Promise((r) => setTimeout(r, 100));
    const qemu = Number((await fs.readFile(join(work, 'agent', 'jobs', job.id, 'qemu.pid'), 'utf8')).trim());
    for (let i = 0; i < viewers; i++) {
      const ws = await openAgentStream({ url: agent.url, fingerprint: agent.fingerprint, token: token([i % 2 ? 'vnc:view' : 'vnc']), path: '/v1/vnc', query: { job: job.id } });
      rfbs.push(await RfbClient.connect(wsTransport(ws)));
    }
    const counts = rfbs.map(() => ({ updates: 0, bytes: 0 }));
    let running = true;
    const pulls = rfbs.map(async (rfb, i) => {
      for (let first = true; running; first = false) {
        const next = rfb.nextUpdate();
        rfb.requestUpdate(!first);
        const u = await next;
        counts[i]!.updates++;
        counts[i]!.bytes += u.pixelBytes;
      }
    });
    const rtts: number[] = [];
    const control = (async () => {
      while (running) {
        const t = performance.now();
        await client.call('job.get', { job: job.id });
        rtts.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [agentCpu0, qemuCpu0, t0] = [await cpuMs(agent.pid), await cpuMs(qemu), performance.now()];
    let peakRss = 0;
    const sampler = setInterval(() => void memoryKiB(agent.pid).then((m) => (peakRss = Math.max(peakRss, m.rss))), 250);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const [agentCpu1, qemuCpu1, wall] = [await cpuMs(agent.pid), await cpuMs(qemu), performance.now() - t0];
    clearInterval(sampler);
    running = false;
    for (const r of rfbs) r.close();
    await Promise.allSettled([...pulls, control]);
    const perViewer = counts.map((c) => c.updates / (wall / 1000));
    await client.call('job.cancel', { job: job.id });
    return {
      viewers,
      seconds,
      screen: `${rfbs[0]?.width}x${rfbs[0]?.height}`,
      agentCpuPercentOfOneCore: Math.round(((agentCpu1 - agentCpu0) / wall) * 1000) / 10,
      qemuCpuPercentOfOneCore: Math.round(((qemuCpu1 - qemuCpu0) / wall) * 1000) / 10,
      agentRssKiB: { peakWhileStreaming: peakRss, processPeak: (await memoryKiB(agent.pid)).peak },
      updatesPerViewerPerSecond: percentiles(perViewer, [0, 50, 100]),
      pixelMiBPerSecondAllViewers: Math.round((counts.reduce((a, c) => a + c.bytes, 0) / (1 << 20) / (wall / 1000)) * 10) / 10,
      controlRoundTripMs: percentiles(rtts, [50, 99, 100]),
      notes: 'TCG guest rewriting VGA text memory in a tight loop (every frame changes); raw encoding; half the viewers vnc, half vnc:view; agent, QEMU and viewers share the machine',
    };
  } finally {
    for (const r of rfbs) r.close();
    await client.close();
    await agent.stop();
    await files.close();
    await disk.detach();
    await fs.rm(work, { recursive: true, force: true });
  }
}
