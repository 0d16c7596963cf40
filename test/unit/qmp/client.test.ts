import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { QmpClient, type QmpEvent } from '../../../agent/qmp/index.js';
import { hasErrno, isXepaError } from '../../../agent/protocol/index.js';
import { startFakeQmp, type FakeQmpServer } from './fake-qmp-server.js';
import { codeOfAsync } from '../../support/error-code.js';

const log = pino({ level: 'silent' });
let server: FakeQmpServer | undefined;
let client: QmpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});


const echo = (msg: Record<string, unknown>, conn: { send(m: object): void }) =>
  conn.send({ return: { echoed: msg.execute, args: msg.arguments ?? null }, id: msg.id });

describe('QmpClient', () => {
  it('reads the greeting and negotiates capabilities before resolving', async () => {
    server = await startFakeQmp(echo);
    client = await QmpClient.connect(server.path, { log });
    expect(client.greeting.version.qemu).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(server.received[0]).toMatchObject({ execute: 'qmp_capabilities' });
    expect(server.received[0]).not.toHaveProperty('arguments');
  });

  it('sends each command with a unique id and resolves with its return value', async () => {
    server = await startFakeQmp(echo);
    client = await QmpClient.connect(server.path, { log });
    const [a, b] = await Promise.all([client.execute('query-status'), client.execute('eject', { id: 'cd0' })]);
    expect(a).toEqual({ echoed: 'query-status', args: null });
    expect(b).toEqual({ echoed: 'eject', args: { id: 'cd0' } });
    const ids = server.received.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('matches out-of-order replies by id', async () => {
    const held: Record<string, unknown>[] = [];
    server = await startFakeQmp((msg, conn) => {
      held.push(msg);
      if (held.length === 2) {
        conn.send({ return: 'second', id: held[1]!.id });
        conn.send({ return: 'first', id: held[0]!.id });
      }
    });
    client = await QmpClient.connect(server.path, { log });
    const results = await Promise.all([client.execute('one'), client.execute('two')]);
    expect(results).toEqual(['first', 'second']);
  });

  it('emits events interleaved with replies, in arrival order', async () => {
    server = await startFakeQmp((msg, conn) => {
      // Event, reply and event in one write: the framer must split them.
      conn.send(
        `{"event":"STOP","timestamp":{"seconds":1,"microseconds":2}}\r\n` +
          `${JSON.stringify({ return: {}, id: msg.id })}\r\n` +
          `{"event":"RESUME","data":{"x":1},"timestamp":{"seconds":3,"microseconds":4}}\r\n`,
      );
    });
    client = await QmpClient.connect(server.path, { log });
    const events: QmpEvent[] = [];
    client.on('event', (e) => events.push(e));
    await client.execute('stop');
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([
      { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } },
      { event: 'RESUME', data: { x: 1 }, timestamp: { seconds: 3, microseconds: 4 } },
    ]);
  });

  it('drops replies with unknown ids and without ids, and keeps working', async () => {
    server = await startFakeQmp((msg, conn) => {
      conn.send({ return: 'stray', id: 'not-ours' });
      conn.send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
      conn.send({ return: 'mine', id: msg.id });
    });
    client = await QmpClient.connect(server.path, { log });
    expect(await client.execute('query-status')).toBe('mine');
    expect(client.closed).toBe(false);
  });

  it('rejects a QMP error reply with ERR_QMP_COMMAND carrying class and desc', async () => {
    server = await startFakeQmp((msg, conn) =>
      conn.send({ error: { class: 'DeviceNotFound', desc: "Device 'cd9' not found" }, id: msg.id }),
    );
    client = await QmpClient.connect(server.path, { log });
    const err = await client.execute('eject', { id: 'cd9' }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QMP_COMMAND')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ command: 'eject', class: 'DeviceNotFound', desc: "Device 'cd9' not found" });
    expect((err as Error).message).toContain("Device 'cd9' not found");
  });

  it('fails every pending call with ERR_QMP_DISCONNECTED and emits close when the server hangs up', async () => {
    let seen = 0;
    server = await startFakeQmp((_msg, conn) => {
      if (++seen === 2) conn.socket.destroy();
    });
    client = await QmpClient.connect(server.path, { log });
    const closed = new Promise<Error | undefined>((r) => client!.once('close', r));
    const a = codeOfAsync(client.execute('one'));
    const b = codeOfAsync(client.execute('two'));
    expect(await a).toBe('ERR_QMP_DISCONNECTED');
    expect(await b).toBe('ERR_QMP_DISCONNECTED');
    await closed;
    expect(client.closed).toBe(true);
    expect(await codeOfAsync(client.execute('three'))).toBe('ERR_QMP_DISCONNECTED');
  });

  it('drops the connection on garbage after negotiation and fails pending calls', async () => {
    server = await startFakeQmp((_msg, conn) => conn.send('this is not json\r\n'));
    client = await QmpClient.connect(server.path, { log });
    const closed = new Promise<Error | undefined>((r) => client!.once('close', r));
    const err = await client.execute('query-status').catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QMP_DISCONNECTED')).toBe(true);
    expect(isXepaError((err as Error).cause, 'ERR_QMP_PROTOCOL')).toBe(true);
    expect(isXepaError(await closed, 'ERR_QMP_PROTOCOL')).toBe(true);
  });

  it('close() fails pending calls and later calls with ERR_QMP_DISCONNECTED', async () => {
    server = await startFakeQmp(() => {});
    client = await QmpClient.connect(server.path, { log });
    const pending = codeOfAsync(client.execute('never-answered'));
    await client.close();
    expect(await pending).toBe('ERR_QMP_DISCONNECTED');
    expect(await codeOfAsync(client.execute('after'))).toBe('ERR_QMP_DISCONNECTED');
  });

  it('times out a single call with ERR_TIMEOUT and drops its late reply', async () => {
    const held: Record<string, unknown>[] = [];
    server = await startFakeQmp((msg, conn) => {
      if (msg.execute === 'slow') held.push(msg);
      else {
        for (const h of held) conn.send({ return: 'late', id: h.id });
        conn.send({ return: 'fast', id: msg.id });
      }
    });
    client = await QmpClient.connect(server.path, { log });
    expect(await codeOfAsync(client.execute('slow', undefined, { timeoutMs: 30 }))).toBe('ERR_TIMEOUT');
    expect(await client.execute('fast')).toBe('fast');
  });

  it('refuses a session that does not start with a greeting with ERR_QMP_PROTOCOL', async () => {
    server = await startFakeQmp(() => {}, { greeting: { return: {} } });
    expect(await codeOfAsync(QmpClient.connect(server.path, { log }))).toBe('ERR_QMP_PROTOCOL');
  });

  it('refuses a garbage greeting with ERR_QMP_PROTOCOL', async () => {
    server = await startFakeQmp(() => {}, { greeting: 'SSH-2.0-OpenSSH\r\n' });
    expect(await codeOfAsync(QmpClient.connect(server.path, { log }))).toBe('ERR_QMP_PROTOCOL');
  });

  it('reports a refused capability negotiation with ERR_QMP_COMMAND', async () => {
    server = await startFakeQmp(() => {}, { capabilities: 'error' });
    expect(await codeOfAsync(QmpClient.connect(server.path, { log }))).toBe('ERR_QMP_COMMAND');
  });

  it('gives up with ERR_TIMEOUT when no greeting comes', async () => {
    server = await startFakeQmp(() => {}, { greeting: null });
    expect(await codeOfAsync(QmpClient.connect(server.path, { log, timeoutMs: 50 }))).toBe('ERR_TIMEOUT');
  });

  it('gives up with ERR_TIMEOUT when negotiation is never answered', async () => {
    server = await startFakeQmp(() => {}, { capabilities: 'silent' });
    expect(await codeOfAsync(QmpClient.connect(server.path, { log, timeoutMs: 50 }))).toBe('ERR_TIMEOUT');
  });

  it('reports a missing socket as ERR_CONNECT with the ENOENT cause', async () => {
    const err = await QmpClient.connect('/nonexistent/xepa/qmp.sock', { log }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_CONNECT')).toBe(true);
    expect(hasErrno((err as Error).cause, 'ENOENT')).toBe(true);
  });

  it('reports a hang-up during the greeting as ERR_QMP_DISCONNECTED', async () => {
    server = await startFakeQmp(() => {}, { greeting: null });
    const result = codeOfAsync(QmpClient.connect(server.path, { log, timeoutMs: 2000 }));
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    server = undefined;
    expect(await result).toBe('ERR_QMP_DISCONNECTED');
  });
});
