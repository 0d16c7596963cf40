import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { XepaError, type ResponseEnvelope } from '../../../agent/protocol/index.js';
import { createDispatcher, type ControlConnection } from '../../../agent/api/control.js';
import { serveControlConnection } from '../../../agent/api/control-connection.js';
import { IdempotencyCache } from '../../../agent/api/idempotency.js';
import { FakeJobs, silentLog } from './fixtures.js';

const conn: ControlConnection = { id: 'c1', send: () => undefined, onClose: () => undefined, log: silentLog() };
const errorOf = (r: ResponseEnvelope) => ('error' in r ? r.error : undefined);

describe('control dispatcher', () => {
  const jobs = new FakeJobs();
  const dispatch = createDispatcher({
    handlers: jobs.handlers({
      inventory: async () => {
        throw new Error('sysfs exploded');
      },
      plan: async () => {
        throw new XepaError('ERR_DEVICE_PROTECTED', 'cannot use /dev/sda: it holds /', { details: { disk: 'sda' } });
      },
    }),
    idempotency: new IdempotencyCache(),
  });
  const req = (o: unknown): Promise<ResponseEnvelope> => dispatch(JSON.stringify(o), false, conn);

  it('answers a valid request with its result', async () => {
    const r = await req({ id: '1', key: 'k', method: 'hello', params: { protocol: 1 } });
    expect(r).toEqual({ id: '1', result: { protocol: 1, agentId: 'agent-test-1', version: 'test', fingerprint: 'AA' } });
  });

  it('answers non-JSON with ERR_BAD_REQUEST and id null', async () => {
    const r = await dispatch('{nope', false, conn);
    expect(errorOf(r)?.code).toBe('ERR_BAD_REQUEST');
    expect(r.id).toBeNull();
  });

  it('answers a binary frame with ERR_BAD_REQUEST', async () => {
    const r = await dispatch(Buffer.from('{}'), true, conn);
    expect(errorOf(r)?.code).toBe('ERR_BAD_REQUEST');
  });

  it('answers a wrong envelope with ERR_BAD_REQUEST, keeping a usable id', async () => {
    const r = await req({ id: '7', method: 'hello' });
    expect(errorOf(r)?.code).toBe('ERR_BAD_REQUEST');
    expect(r.id).toBe('7');
    expect((await req([1, 2])).id).toBeNull();
  });

  it('answers an unknown method with ERR_UNKNOWN_METHOD', async () => {
    const r = await req({ id: '2', key: 'k', method: 'vm.destroyEverything', params: {} });
    expect(errorOf(r)?.code).toBe('ERR_UNKNOWN_METHOD');
    expect(r.id).toBe('2');
  });

  it('answers bad params with ERR_BAD_REQUEST and the zod issues in details', async () => {
    const r = await req({ id: '3', key: 'k', method: 'job.get', params: { job: 42 } });
    const e = errorOf(r);
    expect(e?.code).toBe('ERR_BAD_REQUEST');
    expect(e?.details?.issues).toEqual([expect.objectContaining({ path: 'job' })]);
  });

  it('treats absent params as {} for methods without params', async () => {
    const r = await req({ id: '4', key: 'k', method: 'job.list' });
    expect(r).toEqual({ id: '4', result: { jobs: [] } });
  });

  it('passes a handler XepaError through with its code and details', async () => {
    const r = await req({ id: '5', key: 'k', method: 'plan', params: { iso: { url: 'https://x/y.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: 'S1' }] } });
    expect(errorOf(r)).toEqual({ code: 'ERR_DEVICE_PROTECTED', message: 'cannot use /dev/sda: it holds /', details: { disk: 'sda' } });
  });

  it('turns any other handler exception into ERR_INTERNAL', async () => {
    const r = await req({ id: '6', key: 'k', method: 'inventory', params: {} });
    expect(errorOf(r)?.code).toBe('ERR_INTERNAL');
  });

  it('runs install once for two requests with the same key and answers both with the same job', async () => {
    const params = { iso: { url: 'https://x/y.iso', sha256: 'b'.repeat(64) }, disks: [{ serial: 'S1' }] };
    const [a, b] = await Promise.all([
      req({ id: '8', key: 'same', method: 'install', params }),
      req({ id: '9', key: 'same', method: 'install', params }),
    ]);
    expect(jobs.installCalls).toBe(1);
    expect(a).toMatchObject({ id: '8', result: { id: 'job-1', state: 'planned' } });
    expect(b).toMatchObject({ id: '9', result: { id: 'job-1', state: 'planned' } });
  });
});

// A stand-in for a ws WebSocket whose peer never reads: bufferedAmount only grows.
class StuckSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  send(s: string): void {
    this.sent.push(s);
    this.bufferedAmount += s.length;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close', 1006);
  }
}

describe('control connection', () => {
  it('drops a connection whose unsent data grows past the bound instead of buffering forever', async () => {
    const ws = new StuckSocket();
    const closed: string[] = [];
    const conn = serveControlConnection(ws as unknown as WebSocket, {
      dispatch: async () => ({ id: null, error: { code: 'ERR_BAD_REQUEST', message: 'x' } }),
      log: silentLog(),
      maxBufferedBytes: 1000,
    });
    conn.onClose(() => closed.push('closed'));
    const ev = { event: 'job.event' as const, data: { job: 'j', seq: 1, ts: 't', state: 'running' as const, message: 'x'.repeat(400) } };
    for (let i = 0; i < 10; i++) conn.send(ev);
    expect(ws.terminated).toBe(true);
    expect(ws.sent.length).toBeLessThan(5);
    expect(closed).toEqual(['closed']);
    const sentAtClose = ws.sent.length;
    conn.send(ev);
    expect(ws.sent.length).toBe(sentAtClose); // nothing more is written to a dropped connection
  });

  it('runs onClose callbacks registered after the close at once', async () => {
    const ws = new StuckSocket();
    const conn = serveControlConnection(ws as unknown as WebSocket, { dispatch: createDispatcher({ handlers: new FakeJobs().handlers(), idempotency: new IdempotencyCache() }), log: silentLog() });
    ws.terminate();
    let ran = 0;
    conn.onClose(() => ran++);
    // "At once": within the current turn of the event loop, before any timer or I/O callback.
    await new Promise<void>((r) => setImmediate(r));
    expect(ran).toBe(1);
  });
});
