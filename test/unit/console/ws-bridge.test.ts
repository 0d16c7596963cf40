import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { bridgeWebSocket } from '../../../agent/console/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { FakeWs } from '../../support/fake-ws.js';
import { silentLog } from '../api/fixtures.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// An upstream (QEMU's socket) whose writes the test can block.
function upstream() {
  const written: Buffer[] = [];
  let block = false;
  const pending: (() => void)[] = [];
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      if (block) pending.push(cb);
      else cb();
    },
    highWaterMark: 4,
  });
  return { d, written, setBlocked: (b: boolean) => (block = b), release: () => pending.splice(0).forEach((cb) => cb()) };
}

describe('WebSocket bridge', () => {
  it('pauses the upstream while the WebSocket holds more than the high-water mark, and resumes it below the low one', async () => {
    const ws = new FakeWs();
    const up = upstream();
    bridgeWebSocket({ ws: ws as unknown as WebSocket, upstream: up.d, log: silentLog(), highWaterBytes: 100, lowWaterBytes: 10 });
    up.d.push(Buffer.alloc(60));
    await tick();
    expect(up.d.isPaused()).toBe(false);
    up.d.push(Buffer.alloc(60));
    await tick();
    expect(ws.bufferedAmount).toBe(120);
    expect(up.d.isPaused()).toBe(true);
    ws.flush();
    expect(up.d.isPaused()).toBe(false);
  });

  it('stops reading the WebSocket while the upstream does not take more, and reads again on drain', async () => {
    const ws = new FakeWs();
    const up = upstream();
    bridgeWebSocket({ ws: ws as unknown as WebSocket, upstream: up.d, log: silentLog(), highWaterBytes: 100, lowWaterBytes: 10 });
    up.setBlocked(true);
    ws.emit('message', Buffer.alloc(16), true);
    expect(ws.isPaused).toBe(true);
    up.setBlocked(false);
    up.release();
    await new Promise((r) => setImmediate(r));
    expect(ws.isPaused).toBe(false);
    expect(Buffer.concat(up.written)).toHaveLength(16);
  });

  it('closes with 1003 on a text frame, and with 1008 naming the code when the filter refuses', () => {
    const text = new FakeWs();
    bridgeWebSocket({ ws: text as unknown as WebSocket, upstream: upstream().d, log: silentLog(), highWaterBytes: 100, lowWaterBytes: 10 });
    text.emit('message', Buffer.from('hi'), false);
    expect(text.closed?.code).toBe(1003);

    const refused = new FakeWs();
    const up = upstream();
    bridgeWebSocket({
      ws: refused as unknown as WebSocket,
      upstream: up.d,
      log: silentLog(),
      highWaterBytes: 100,
      lowWaterBytes: 10,
      toUpstream: () => {
        throw new XepaError('ERR_BAD_REQUEST', 'RFB client message type 7 is not one the view-only filter can frame');
      },
    });
    refused.emit('message', Buffer.from([7]), true);
    expect(refused.closed?.code).toBe(1008);
    expect(refused.closed?.reason).toMatch(/^ERR_BAD_REQUEST: RFB client message type 7/);
    expect(up.d.destroyed).toBe(true);
  });

  it('closes the WebSocket when the upstream ends, and destroys the upstream when the WebSocket closes', () => {
    const ws = new FakeWs();
    const up = upstream();
    bridgeWebSocket({ ws: ws as unknown as WebSocket, upstream: up.d, log: silentLog(), highWaterBytes: 100, lowWaterBytes: 10, upstreamEnded: 'VM gone' });
    up.d.emit('close');
    expect(ws.closed).toEqual({ code: 1000, reason: 'VM gone' });

    const ws2 = new FakeWs();
    const up2 = upstream();
    bridgeWebSocket({ ws: ws2 as unknown as WebSocket, upstream: up2.d, log: silentLog(), highWaterBytes: 100, lowWaterBytes: 10 });
    ws2.emit('close');
    expect(up2.d.destroyed).toBe(true);
  });
});
