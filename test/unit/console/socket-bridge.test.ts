import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { bridgeLocalSocket } from '../../../controller/console/index.js';
import { FakeWs } from '../../support/fake-ws.js';

// The agent stream as the bridge sees it; the test decides when sends complete. openAgentStream hands streams
// over paused.
const agentStream = (): FakeWs => new FakeWs({ paused: true });

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('controller socket bridge', () => {
  it('resumes the stream it was handed, and pauses the local side while the agent stream is backed up', async () => {
    const ws = agentStream();
    const local = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    void bridgeLocalSocket(local, ws as unknown as WebSocket, { highWaterBytes: 100, lowWaterBytes: 10 });
    expect(ws.isPaused).toBe(false);
    local.push(Buffer.alloc(150));
    await tick();
    expect(local.isPaused()).toBe(true);
    ws.flush();
    expect(local.isPaused()).toBe(false);
  });

  it('stops reading the agent stream while the local side does not take more', async () => {
    const ws = agentStream();
    const pending: (() => void)[] = [];
    const local = new Duplex({ read() {}, write(_c, _e, cb) { pending.push(cb); }, highWaterMark: 8 });
    void bridgeLocalSocket(local, ws as unknown as WebSocket);
    ws.emit('message', Buffer.alloc(64));
    expect(ws.isPaused).toBe(true);
    pending.splice(0).forEach((cb) => cb());
    await tick();
    expect(ws.isPaused).toBe(false);
  });

  it('keeps answering after the local side half-closes (socat at the end of its input), then closes when the agent is quiet', async () => {
    const ws = agentStream();
    const written: Buffer[] = [];
    const local = new Duplex({ read() {}, write(c, _e, cb) { written.push(c); cb(); }, allowHalfOpen: true });
    const done = bridgeLocalSocket(local, ws as unknown as WebSocket, undefined, 20);
    local.push(null); // local EOF
    await tick();
    ws.emit('message', Buffer.from('{"return": {}}\r\n'));
    expect(Buffer.concat(written).toString()).toBe('{"return": {}}\r\n');
    expect(ws.closed).toBeUndefined();
    await new Promise<void>((r) => ws.once('close', () => r()));
    expect(ws.closed?.code).toBe(1000);
    local.destroy();
    await done;
  });
});
