import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope, XepaError } from '../../../agent/protocol/index.js';
import { RfbClient, wsTransport } from '../../../bench/console-rfb-client.js';
import { openAgentStream, runQmpCommand } from '../../../controller/console/index.js';
import { startRealVmRig, type RealVmRig } from './real-vm.js';

// Reads a stream's messages as text until `pattern` shows up.
function collect(ws: import('ws').default): { text: () => string; until: (p: RegExp) => Promise<string> } {
  const parts: Buffer[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    parts.push(d);
    for (const w of waiters.splice(0)) w();
  });
  ws.resume();
  const text = (): string => Buffer.concat(parts).toString('latin1');
  return {
    text,
    until: async (p) => {
      while (!p.test(text())) {
        if (ws.readyState !== ws.OPEN) throw new Error(`stream closed before ${p}: ${text().slice(-200)}`);
        await new Promise<void>((r) => waiters.push(r));
      }
      return text();
    },
  };
}

describe('consoles of a real QEMU guest through the agent', () => {
  let rig: RealVmRig;
  const open = (path: string, scope: Scope, subprotocols = ['binary']) =>
    openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: rig.token(scope), path, subprotocols });

  beforeAll(async () => {
    rig = await startRealVmRig('text');
  });
  afterAll(() => rig?.close());

  it('lets a Node RFB client through /v1/vnc complete the handshake and receive a full frame', async () => {
    const rfb = await RfbClient.connect(wsTransport(await open('/v1/vnc', 'vnc')));
    expect([rfb.width, rfb.height]).toEqual([720, 400]); // VGA text mode
    const update = rfb.nextUpdate();
    rfb.requestUpdate(false);
    const u = await update;
    expect(u.full).toBe(true);
    expect(u.pixelBytes).toBe(720 * 400 * 4);
    rfb.close();
  });

  it('shares the session: a second viewer does not disconnect the first, and both get frames', async () => {
    const a = await RfbClient.connect(wsTransport(await open('/v1/vnc', 'vnc:view')));
    const b = await RfbClient.connect(wsTransport(await open('/v1/vnc', 'vnc')));
    for (const c of [a, b]) {
      const u = c.nextUpdate();
      c.requestUpdate(false);
      expect((await u).full).toBe(true);
    }
    a.close();
    b.close();
  });

  it("never lets a vnc:view viewer's keystrokes reach the guest, while a vnc viewer's do", async () => {
    const viewer = await RfbClient.connect(wsTransport(await open('/v1/vnc', 'vnc:view')));
    viewer.type('secret\r');
    // QEMU handles a connection's messages in order: once it answers a request sent after the keys, any key that
    // got through has reached the guest's keyboard.
    const after = viewer.nextUpdate();
    viewer.requestUpdate(false);
    await after;
    const typist = await RfbClient.connect(wsTransport(await open('/v1/vnc', 'vnc')));
    typist.type('after\r');
    const log = await rig.untilSerial(0, /KEYS:.*after/);
    // Had the viewer's keys arrived, they would be on the guest's line before "after" (or on a line of their own).
    expect(log).toMatch(/KEYS:after\r?\n/);
    expect(log).not.toMatch(/secret/);
    viewer.close();
    typist.close();
  });

  it('gives a late serial viewer the output printed before it came, then live output both ways', async () => {
    const log = rig.serialLog(1);
    expect(log).toContain('XEPA-GUEST: serial1 up'); // printed at boot, long before any viewer
    const s1 = collect(await open('/v1/serial/1', 'serial'));
    expect(await s1.until(/serial1 up/)).toMatch(/^[^]*XEPA-GUEST: serial1 up/);
    const ws = await open('/v1/serial/1', 'serial'); // a second viewer of the same port, at the same time
    const s2 = collect(ws);
    await s2.until(/serial1 up/);
    ws.send(Buffer.from('ping-42\n'));
    await s1.until(/ECHO:ping-42/);
    await s2.until(/ECHO:ping-42/);
  });

  it('runs allowed QMP commands (query-status, send-key) and refuses one outside the allow-list', async () => {
    const q = await open('/v1/qmp', 'qmp', ['xepa']);
    expect(await runQmpCommand(q, 'query-status')).toMatchObject({ status: 'running', running: true });
    q.close();
    for (const key of ['q', 'ret']) {
      const ws = await open('/v1/qmp', 'qmp', ['xepa']); // runQmpCommand: one command per stream
      await runQmpCommand(ws, 'send-key', { keys: [{ type: 'qcode', data: key }] });
      ws.close();
    }
    await rig.untilSerial(0, /KEYS:q\r?\n/);
    const hmp = await open('/v1/qmp', 'qmp', ['xepa']);
    const err = (await runQmpCommand(hmp, 'human-monitor-command', { 'command-line': 'info registers' }).catch((e: unknown) => e)) as XepaError;
    expect(err.code).toBe('ERR_QMP_COMMAND');
    expect(String((err.details as { desc: string }).desc)).toMatch(/ERR_FORBIDDEN.*human-monitor-command/);
    hmp.close();
    // the shared supervisor connection is intact after all of that
    expect(await rig.vm.qmp.execute('query-status')).toMatchObject({ running: true });
  });
});
