import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgentStream } from '../../../controller/console/index.js';
import { tokenFor } from '../api/fixtures.js';
import { startConsoleRig, type ConsoleRig } from './console-fixtures.js';

describe('console liveness', () => {
  let rig: ConsoleRig;
  beforeAll(async () => {
    rig = await startConsoleRig({ pingIntervalMs: 50 });
  });
  afterAll(() => rig?.close());

  it("drops a viewer that stops answering pings and lets go of its QEMU connection", async () => {
    const index = rig.vnc.clients.length;
    const ws = await openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc', pingIntervalMs: 0 });
    await rig.vnc.untilBytes(0, index); // the agent opened its connection to QEMU's VNC socket
    const closedByAgent = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    (ws as unknown as { _socket: Socket })._socket.pause(); // the peer goes silent: it never reads the pings
    await rig.vnc.clients[index]!.closed;
    (ws as unknown as { _socket: Socket })._socket.resume();
    expect(await closedByAgent).toBe(1006); // terminated, no close frame
  });

  it('keeps a viewer that answers pings, however long it stays idle', async () => {
    const index = rig.vnc.clients.length;
    const ws = await openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc', pingIntervalMs: 0 });
    ws.resume();
    let pings = 0;
    await new Promise<void>((resolve) => ws.on('ping', () => ++pings === 6 && resolve())); // several heartbeat rounds, idle
    expect(ws.readyState).toBe(ws.OPEN);
    const state = await Promise.race([rig.vnc.clients[index]!.closed.then(() => 'closed'), Promise.resolve('open')]);
    expect(state).toBe('open'); // its QEMU connection is still there
    ws.close();
  });
});
