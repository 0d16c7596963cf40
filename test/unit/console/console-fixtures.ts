// A real agent server with the console routes in front of fake QEMU endpoints: a VNC unix socket speaking
// the server side of RFB 3.8, two serial sockets, and a fake QMP server behind the real QmpClient.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgentServer, type AgentServer } from '../../../agent/api/index.js';
import { createConsoleRoutes, type ConsoleLimits, type ConsoleTarget, type PtyAvailability } from '../../../agent/console/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { QmpClient } from '../../../agent/qmp/index.js';
import { rfbServerInit } from '../../../bench/console-blast.js';
import { FakeJobs, agentServerOptions, controllerKeys, silentLog, testIdentity, type ControllerPair } from '../api/fixtures.js';
import { startFakeQmp, type FakeQmpServer } from '../qmp/fake-qmp-server.js';

const RFB_VERSION = Buffer.from('RFB 003.008\n', 'latin1');

/** A fake QEMU VNC server: every client gets the 3.8 handshake; a FramebufferUpdateRequest gets a 1x1 update. */
export interface FakeVnc {
  path: string;
  clients: { received: Buffer[]; bytes(): Buffer; closed: Promise<void> }[];
  // Resolves once client number `index` (default: the newest) has sent `n` bytes in total.
  untilBytes(n: number, index?: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startFakeVnc(dir: string): Promise<FakeVnc> {
  const path = join(dir, 'vnc.sock');
  const clients: FakeVnc['clients'] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const c = { received: [] as Buffer[], bytes: () => Buffer.concat(c.received), closed: new Promise<void>((r) => s.once('close', () => r())) };
    clients.push(c);
    s.write(RFB_VERSION);
    let stage = 0;
    let parsed = 14; // client bytes of the handshake: version 12, security 1, ClientInit 1
    s.on('data', (d: Buffer) => {
      c.received.push(d);
      const all = c.bytes();
      if (stage === 0 && all.length >= 12) {
        stage = 1;
        s.write(Buffer.from([1, 1])); // one security type: None
      }
      if (stage === 1 && all.length >= 13) {
        stage = 2;
        s.write(Buffer.from([0, 0, 0, 0])); // SecurityResult OK
      }
      if (stage === 2 && all.length >= 14) {
        stage = 3;
        s.write(rfbServerInit('fake'));
      }
      if (stage === 3) {
        // Walk the client messages (the few types the tests send); answer each update request with a 1x1 update.
        while (parsed < all.length) {
          const t = all[parsed]!;
          const len = t === 0 ? 20 : t === 2 ? 4 + 4 * (all.length >= parsed + 4 ? all.readUInt16BE(parsed + 2) : 0) : t === 3 ? 10 : t === 4 ? 8 : t === 5 ? 6 : 8 + (all.length >= parsed + 8 ? all.readUInt32BE(parsed + 4) : 0);
          if (all.length < parsed + len || (t === 2 && all.length < parsed + 4) || (t === 6 && all.length < parsed + 8)) break;
          if (t === 3) s.write(Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0]));
          parsed += len;
        }
      }
      for (const w of waiters.splice(0)) w();
    });
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    clients,
    untilBytes: async (n, index) => {
      for (;;) {
        const last = index === undefined ? clients.at(-1) : clients[index];
        if (last && last.bytes().length >= n) return last.bytes();
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The agent with consoles in front of the fakes. */
export interface ConsoleRig {
  url: string;
  fingerprint: string;
  keys: ControllerPair;
  dir: string;
  vnc: FakeVnc;
  qmpServer: FakeQmpServer;
  setRunning(running: boolean): void;
  close(): Promise<void>;
}

// Starts the rig; `pty` replaces node-pty (e.g. to play a rescue system without it).
export async function startConsoleRig(o: { pty?: Promise<PtyAvailability>; shell?: { file: string; args: string[] }; pingIntervalMs?: number; limits?: Partial<ConsoleLimits> } = {}): Promise<ConsoleRig> {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-console-'));
  const vnc = await startFakeVnc(dir);
  const qmpServer = await startFakeQmp((msg, conn) => {
    if (msg.execute === 'screendump') {
      const file = (msg.arguments as { filename: string }).filename;
      writeFileSync(file, Buffer.concat([Buffer.from('P6\n2 1\n255\n'), Buffer.from([255, 0, 0, 0, 0, 255])]));
    }
    conn.send({ return: {}, id: msg.id });
  });
  const qmp = await QmpClient.connect(qmpServer.path, { log: silentLog() });
  let running = true;
  const target: ConsoleTarget = { job: 'job-1', dir, vnc: vnc.path, serial: [join(dir, 's0.sock'), join(dir, 's1.sock')], serialLogs: [], qmp };
  const consoles = createConsoleRoutes({
    targets: (job) => {
      if (!running) throw new XepaError('ERR_NOT_FOUND', 'no job has a running VM on this agent');
      if (job === 'job-fetching') throw new XepaError('ERR_JOB_STATE', 'job job-fetching is fetching: its VM is not running', { details: { job, state: 'fetching' } });
      if (job !== undefined && job !== 'job-1') throw new XepaError('ERR_NOT_FOUND', `no job ${job} on this agent`);
      return target;
    },
    log: silentLog(),
    ...(o.pty ? { pty: o.pty } : {}),
    ...(o.shell ? { shell: { ...o.shell, cwd: dir } } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
  });
  const id = await testIdentity();
  const keys = controllerKeys();
  const server: AgentServer = await startAgentServer({
    ...agentServerOptions(id, keys, new FakeJobs().handlers()),
    routes: consoles.routes,
    ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
  });
  return {
    url: `wss://127.0.0.1:${server.port}`,
    fingerprint: id.fingerprint,
    keys,
    dir,
    vnc,
    qmpServer,
    setRunning: (r) => (running = r),
    close: async () => {
      await server.close();
      await consoles.close();
      await qmp.close();
      await qmpServer.close();
      await vnc.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
