import { generateKeyPairSync } from 'node:crypto';
import { mintToken, rawPublicKeyBase64 } from '../controller/auth/index.js';
import { connectAgent, type AgentClient } from '../controller/client/index.js';
import { PROTOCOL_VERSION } from '../agent/protocol/index.js';
import { memoryKiB, percentiles, startRole } from './load-child.js';

// One controller process following many agents: the fake agents (load-fake-agents.ts) run in a child process;
// this process connects to each with the real client (pinned TLS, token, hello), follows its job to the end, and
// measures its own CPU and RSS and each event's delivery latency (send time in the event -> receipt here).
const now = (): number => performance.timeOrigin + performance.now();

// Runs the benchmark and returns the figures for bench/results/load-controller.json.
export async function benchController(o: { agents?: number; events?: number; intervalMs?: number } = {}): Promise<Record<string, unknown>> {
  const agents = o.agents ?? 500;
  const events = o.events ?? 20;
  const intervalMs = o.intervalMs ?? 500;
  const keys = generateKeyPairSync('ed25519');
  const fakes = startRole<{ ports: number[]; fingerprint: string }>('fake-agents', {
    XEPA_FAKE_AGENTS: String(agents), XEPA_FAKE_EVENTS: String(events), XEPA_FAKE_INTERVAL_MS: String(intervalMs),
    XEPA_FAKE_KEY: rawPublicKeyBase64(keys.publicKey),
  });
  const clients: AgentClient[] = [];
  try {
    const { ports, fingerprint } = await fakes.first;
    const rssBefore = (await memoryKiB(process.pid)).rss;
    const tConnect = performance.now();
    // Connect in waves of 50: a controller dialing its fleet at start-up, not a SYN flood.
    for (let i = 0; i < ports.length; i += 50) {
      clients.push(...(await Promise.all(ports.slice(i, i + 50).map(async (port, j) => {
        const c = await connectAgent({
          url: `wss://127.0.0.1:${port}`, fingerprint, reconnect: false,
          token: () => mintToken(keys.privateKey, { agentId: `fake-${i + j}`, scope: ['control'], ttlSeconds: 300 }),
        });
        await c.call('hello', { protocol: PROTOCOL_VERSION });
        return c;
      }))));
    }
    const connectMs = performance.now() - tConnect;

    const latencies: number[] = [];
    let peakRss = 0;
    const sampler = setInterval(() => void memoryKiB(process.pid).then((m) => (peakRss = Math.max(peakRss, m.rss))), 200);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(clients.map((c) => c.followJob('job-1', {
      onEvent: (e) => {
        const t = e.detail?.t;
        if (typeof t === 'number') latencies.push(now() - t);
      },
    })));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    const mem = await memoryKiB(process.pid);
    peakRss = Math.max(peakRss, mem.rss);
    return {
      agents,
      eventsPerAgent: events,
      eventIntervalMs: intervalMs,
      eventsReceived: latencies.length,
      eventsExpected: agents * events,
      connectAllMs: Math.round(connectMs),
      followWallMs: Math.round(wallMs),
      controllerCpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
      controllerRssKiB: { beforeConnect: rssBefore, peakWhileFollowing: peakRss },
      eventLatencyMs: percentiles(latencies, [50, 99, 100]),
      notes: 'fake agents are the real agent server (TLS, auth, dispatcher) with a scripted job, all in one child process on the same 2 cores; latency = receipt time - send time stamped in the event',
    };
  } finally {
    for (const c of clients) await c.close();
    await fakes.stop();
  }
}
