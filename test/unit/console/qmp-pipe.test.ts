import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpSession } from '../../../agent/console/index.js';
import { QmpClient } from '../../../agent/qmp/index.js';
import { pipeQmp } from '../../../controller/console/index.js';
import { silentLog } from '../api/fixtures.js';
import { startFakeQmp, type FakeQmpServer } from '../qmp/fake-qmp-server.js';

// `xepa qmp HOST` with a pipe on stdin, against the agent's real QMP session (16 commands in flight at most per
// connection) over a real WebSocket, in front of a QEMU stand-in on a unix socket.
describe('a pipe into xepa qmp', () => {
  let fake: FakeQmpServer;
  let qmp: QmpClient;
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    fake = await startFakeQmp((msg, conn) => {
      if (msg.execute === 'query-status') return conn.send({ return: { status: 'running', running: true }, id: msg.id });
      conn.send({ error: { class: 'GenericError', desc: `${String(msg.execute)} refused by the stand-in` }, id: msg.id });
    });
    qmp = await QmpClient.connect(fake.path, { log: silentLog() });
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => {
      const s = new QmpSession({
        qmp,
        policy: { jobDir: '/run/xepa/jobs/job-1', mediaDirs: [] },
        send: (m) => ws.send(`${JSON.stringify(m)}\r\n`),
        log: silentLog(),
        maxInFlight: 16,
        maxMessageBytes: 4096,
      });
      s.start();
      ws.on('message', (d: Buffer) => s.receive(d));
      ws.on('close', () => s.close());
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => wss.close(() => r()));
    await qmp.close();
    await fake.close();
  });

  // Pipes `commands` (one per line) through pipeQmp; returns its result and every message it printed.
  async function pipe(commands: unknown[], window?: number) {
    const ws = new WebSocket(url);
    await new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
    const out = new PassThrough();
    const printed: Buffer[] = [];
    out.on('data', (d: Buffer) => printed.push(d));
    const input = Readable.from([commands.map((c) => JSON.stringify(c)).join('\n') + '\n']);
    const result = await pipeQmp(input, out, ws, window);
    const messages = Buffer.concat(printed).toString('utf8').split('\r\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, messages };
  }
  const script = (n: number): unknown[] => [{ execute: 'qmp_capabilities' }, ...Array.from({ length: n }, (_, i) => ({ execute: 'query-status', id: `s${i}` }))];
  const unavailable = (m: Record<string, unknown>): boolean => JSON.stringify(m).includes('ERR_UNAVAILABLE');

  it('waits for replies instead of being refused: 200 piped commands are all answered, in order', async () => {
    const { result, messages } = await pipe(script(200));
    expect(result).toEqual({ sent: 201, replies: 201, errors: 0, cutShort: false });
    expect(messages.filter(unavailable)).toEqual([]);
    const ids = messages.filter((m) => typeof m.id === 'string').map((m) => m.id);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => `s${i}`));
  });

  it('without a window the same pipe is refused by the agent beyond 16 in flight (what the window prevents)', async () => {
    const { result, messages } = await pipe(script(200), 1000);
    expect(messages.filter(unavailable).length).toBeGreaterThan(0);
    expect(result.errors).toBe(messages.filter(unavailable).length);
  });

  it('counts the commands that failed, so the CLI exits non-zero', async () => {
    const { result, messages } = await pipe([...script(3), { execute: 'human-monitor-command', arguments: { 'command-line': 'info pci' }, id: 'h' }, 'not json']);
    expect(result).toMatchObject({ sent: 6, replies: 6, errors: 2, cutShort: false });
    expect(messages.find((m) => m.id === 'h')).toMatchObject({ error: { class: 'GenericError' } });
  });

  it('reports a stream that closes before every command is answered', async () => {
    const ws = new WebSocket(url);
    await new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
    const input = new PassThrough();
    const done = pipeQmp(input, new PassThrough(), ws);
    input.write('{"execute":"qmp_capabilities"}\n');
    for (const c of wss.clients) c.terminate(); // the agent side goes away with the input still open
    expect(await done).toMatchObject({ cutShort: true });
  });
});
