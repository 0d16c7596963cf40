import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../controller/auth/index.js';
import { type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { PROTOCOL_VERSION, type Scope } from '../../../agent/protocol/index.js';
import type { RouteListing } from '../../../agent/api/index.js';
import { agentBench } from './helpers/agent-bench.js';
import { watchJob, fakeIso } from './helpers/agent-harness.js';
import { BOOT_MARKER, createBootDisk } from './helpers/boot-disk.js';
import { startFaultServer, type FaultServer } from './helpers/fault-server.js';
import { isAlive } from './helpers/processes.js';
import { HANDSHAKE_FAULTS, ROUTE_FAULTS, openTls, readExchange, transportFault, upgradeRequest, within } from './helpers/raw-ws.js';
import { malformations } from './helpers/ws-frames.js';

// Frame-level fuzz of every WebSocket route of the real agent process (the bundle, loopback), while a job's VM
// runs. The routes and their scopes come from the agent's own route table (its "agent listening" log line, built
// by listRoutes from the table the server serves), so a new route is fuzzed without a change here. Under every
// scope a route accepts, a fresh connection per case sends one malformation of RFC 6455, written by hand right
// after a real upgrade, and must be answered with the RFC's close code (1002, 1007, 1009); transport faults (RST and
// half-close mid-frame, cuts in the TLS handshake and the upgrade request) follow. After each route × scope the
// agent process must be alive, answer hello on an existing and on a new control connection, serve a serial console
// with the guest's output, and the job must still be running with its QEMU.
const bench = agentBench('xepa-ws-fuzz-');
const iso = fakeIso();
let server: FaultServer;
let disk: LoopDisk | undefined;
let job: string;
let port: number;
let table: RouteListing[];

beforeAll(async () => {
  port = Number(new URL(bench.h.agent.url).port);
  server = bench.hold(await startFaultServer(() => ({ body: iso.body, etag: '"v1"' })));
  disk = bench.hold(await createBootDisk(join(bench.work, 'disk.img'), 'halt'));
  const j = await bench.client.call('install', {
    iso: { url: server.url, sha256: iso.sha256 },
    disks: [{ path: disk.device }],
    vm: { memoryMiB: 256, cpus: 1, bootOrder: 'disk-first' as const },
  });
  job = j.id;
  await watchJob(bench.client, job).until((e) => e.state === 'running', 'the running state');
  table = routeTable();
}, 120_000);

// The route table the agent process logged when it started listening.
function routeTable(): RouteListing[] {
  for (const line of bench.h.agent.logLines) {
    const rec = JSON.parse(line) as { msg?: string; routes?: RouteListing[] };
    if (rec.msg === 'agent listening' && rec.routes) return rec.routes;
  }
  throw new Error('the agent did not log its route table with "agent listening"');
}

const token = (scope: Scope): string => mintToken(bench.h.key.privateKey, { agentId: bench.h.agent.agentId, scope: [scope], ttlSeconds: 120 });
const qemuPid = (): number => Number(readFileSync(join(bench.h.stateDir, 'jobs', job, 'qemu.pid'), 'utf8').trim());

// Runs fn over items, at most `width` at a time (the consoles cap their viewers: screendump and shell at 4).
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// A legitimate serial viewer: resolves with the scrollback it receives first (the guest's boot marker is in it).
function serialScrollback(): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/serial/0`, ['binary'], { rejectUnauthorized: false, headers: { Authorization: `Bearer ${token('serial')}` } });
    let got = '';
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no boot marker on /v1/serial/0 within 20 s: ${JSON.stringify(got.slice(-200))}`))), 20_000);
    ws.on('message', (d: Buffer) => {
      got += d.toString('latin1');
      if (!got.includes(BOOT_MARKER)) return;
      clearTimeout(timer);
      ws.close();
      resolve(got);
    });
    ws.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

// The agent survived: alive, answering hello (old and new control connections), serving a console, job running.
async function agentStillServes(after: string): Promise<void> {
  expect(await isAlive(bench.h.agent.pid), `agent process after ${after}`).toBe(true);
  expect((await bench.client.call('hello', { protocol: PROTOCOL_VERSION })).agentId).toBe(bench.h.agent.agentId);
  const fresh = await bench.h.connect();
  await fresh.close();
  expect(await serialScrollback()).toContain(BOOT_MARKER);
  expect((await bench.client.call('job.get', { job })).state).toBe('running');
  expect(await isAlive(qemuPid()), `the job's QEMU after ${after}`).toBe(true);
}

describe('malformed WebSocket frames and transport faults on every route, under every scope', () => {
  it('the route table read from the agent lists the control channel and every console', () => {
    const paths = table.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/v1/control', '/v1/vnc', '/v1/screendump', '/v1/serial/0', '/v1/serial/1', '/v1/qmp', '/v1/shell']));
    expect(table.find((r) => r.path === '/v1/vnc')?.scopes).toEqual(['vnc', 'vnc:view']);
    for (const r of table) expect(r.maxPayload).toBeGreaterThan(0);
  });

  it('closes each malformed connection with the RFC code; the agent, its consoles and the running job live on', async () => {
    const cases = malformations();
    const started = Date.now();
    let connections = 0;
    const perPair: string[] = [];
    for (const route of table) {
      for (const [i, scope] of route.scopes.entries()) {
        const pairStart = Date.now();
        const wrong: string[] = [];
        const faults = i === 0 ? [...ROUTE_FAULTS, ...HANDSHAKE_FAULTS] : ROUTE_FAULTS;
        await pool(cases, 3, async (m) => {
          const c = await openTls(port).catch((err: Error) => (wrong.push(`${m.name}: ${err.message}`), undefined));
          if (!c) return;
          const answer = readExchange(c);
          // The frame follows the upgrade request in the same write: ws parses it right after the handshake,
          // before a route can finish on its own (a screenshot, a shell starting).
          c.tls.write(Buffer.concat([upgradeRequest(route.path, token(scope)), m.bytes(route.maxPayload)]));
          const ex = await answer;
          connections++;
          if (ex.status !== 101 || ex.closeCode !== m.expectClose) {
            wrong.push(`${m.name}: status ${ex.status}, close ${ex.closeCode ?? 'none'} (want 101, ${m.expectClose})`);
          }
        });
        await pool(faults, 3, async (fault) => {
          const status = await transportFault(port, route.path, token(scope), fault).catch((err: Error) => (wrong.push(`${fault}: ${err.message}`), 0));
          connections++;
          if (status !== undefined && status !== 101) wrong.push(`${fault}: upgrade answered ${status}`);
        });
        await within(agentStillServes(`${route.path} under ${scope}`), 30_000, `the agent's health check after ${route.path} under ${scope}`);
        expect(wrong, `${route.path} under ${scope}`).toEqual([]);
        perPair.push(`${route.path} ${scope} ${Date.now() - pairStart} ms`);
      }
    }
    const pairs = table.reduce((n, r) => n + r.scopes.length, 0);
    expect(connections).toBe(pairs * (cases.length + ROUTE_FAULTS.length) + table.length * HANDSHAKE_FAULTS.length);
    console.log(`ws-frame-fuzz: ${table.length} paths, ${pairs} path x scope pairs, ${cases.length} malformations + ${ROUTE_FAULTS.length} route faults each, ${HANDSHAKE_FAULTS.length} handshake faults per path: ${connections} connections in ${Date.now() - started} ms (${perPair.join(', ')})`);
  }, 180_000);
});
