import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XepaError } from '../../../agent/protocol/index.js';
import { RfbClient, wsTransport } from '../../../bench/console-rfb-client.js';
import { openAgentStream, readScreenshot, runQmpCommand } from '../../../controller/console/index.js';
import { tokenFor } from '../api/fixtures.js';
import { startConsoleRig, type ConsoleRig } from './console-fixtures.js';
import * as F from './rfb-fixtures.js';
import type { Scope } from '../../../agent/protocol/index.js';

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('console endpoints of the agent (fake QEMU behind a real server)', () => {
  let rig: ConsoleRig;
  const open = (path: string, scope: Scope, extra: { subprotocols?: string[]; query?: Record<string, string> } = {}) =>
    openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, [scope]), path, pingIntervalMs: 0, ...extra });

  beforeAll(async () => {
    rig = await startConsoleRig();
  });
  afterAll(() => rig?.close());

  it("never lets a vnc:view viewer's keys, pointer or clipboard reach QEMU, while its screen requests do", async () => {
    const ws = await open('/v1/vnc', 'vnc:view');
    const rfb = await RfbClient.connect(wsTransport(ws));
    const clientCount = rig.vnc.clients.length;
    rfb.type('secret\r');
    rfb.pointer(10, 10, 1);
    ws.send(F.cutText('rm -rf /'));
    const update = rfb.nextUpdate();
    rfb.requestUpdate(false);
    await update; // QEMU answered a request sent after the input: the input was dropped or already there
    const seen = rig.vnc.clients[clientCount - 1]!.bytes();
    // handshake (ClientInit shared) + SetEncodings(raw, DesktopSize) + the update request: nothing else
    const setEnc = Buffer.from([2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21]);
    const fbur = Buffer.from([3, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    expect(seen).toEqual(Buffer.concat([F.FORWARDED_HANDSHAKE_38, setEnc, fbur]));
    rfb.close();
  });

  it("passes a vnc viewer's keys to QEMU", async () => {
    const index = rig.vnc.clients.length;
    const ws = await open('/v1/vnc', 'vnc');
    const rfb = await RfbClient.connect(wsTransport(ws));
    rfb.key(0x61, true);
    const seen = await rig.vnc.untilBytes(F.FORWARDED_HANDSHAKE_38.length + 12 + 8, index);
    expect(seen.subarray(-8)).toEqual(F.keyEvent(true, 0x61));
    rfb.close();
  });

  it('selects subprotocol binary when a websockify-style client offers it, and none when none is offered', async () => {
    const withBinary = await open('/v1/vnc', 'vnc:view', { subprotocols: ['binary'] });
    expect(withBinary.protocol).toBe('binary');
    withBinary.close();
    const without = await open('/v1/vnc', 'vnc:view', { subprotocols: [] });
    expect(without.protocol).toBe('');
    without.close();
  });

  it('refuses the upgrade with ERR_NOT_FOUND when no VM runs, and names the job that does not exist', async () => {
    rig.setRunning(false);
    try {
      const err = await errorOf(open('/v1/vnc', 'vnc'));
      expect((err as XepaError).code).toBe('ERR_NOT_FOUND');
      expect((err as XepaError).message).toMatch(/no job has a running VM/);
    } finally {
      rig.setRunning(true);
    }
    const named = await errorOf(open('/v1/vnc', 'vnc', { query: { job: 'job-nope' } }));
    expect((named as XepaError).code).toBe('ERR_NOT_FOUND');
    expect((named as XepaError).message).toMatch(/job-nope/);
  });

  it("gives an authenticated client the details of a refusal (the job's state, so `xepa serial --wait` can wait), and an unauthenticated one none", async () => {
    const err = (await errorOf(open('/v1/serial/0', 'serial', { query: { job: 'job-fetching' } }))) as XepaError;
    expect(err.code).toBe('ERR_JOB_STATE');
    expect(err.details).toEqual({ job: 'job-fetching', state: 'fetching' });
    const anonymous = (await errorOf(openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: 'not-a-token', path: '/v1/serial/0', pingIntervalMs: 0, query: { job: 'job-fetching' } }))) as XepaError;
    expect(anonymous.code).toBe('ERR_UNAUTHORIZED');
    expect(anonymous.details).toBeUndefined();
  });

  it('keeps each endpoint to its scope: a vnc:view token opens neither QMP nor serial, a qmp token no VNC', async () => {
    expect(((await errorOf(open('/v1/qmp', 'vnc:view'))) as XepaError).code).toBe('ERR_FORBIDDEN');
    expect(((await errorOf(open('/v1/serial/0', 'vnc:view'))) as XepaError).code).toBe('ERR_FORBIDDEN');
    expect(((await errorOf(open('/v1/vnc', 'qmp'))) as XepaError).code).toBe('ERR_FORBIDDEN');
    expect(((await errorOf(open('/v1/serial/2', 'serial'))) as XepaError).code).toBe('ERR_NOT_FOUND');
  });

  it('runs an allowed QMP command and refuses one outside the allow-list', async () => {
    const ok = await open('/v1/qmp', 'qmp', { subprotocols: ['xepa'] });
    expect(await runQmpCommand(ok, 'system_powerdown')).toEqual({});
    ok.close();
    const no = await open('/v1/qmp', 'qmp', { subprotocols: ['xepa'] });
    const err = (await errorOf(runQmpCommand(no, 'human-monitor-command', { 'command-line': 'info pci' }))) as XepaError;
    expect(err.code).toBe('ERR_QMP_COMMAND');
    expect(err.details).toMatchObject({ class: 'GenericError', desc: expect.stringMatching(/ERR_FORBIDDEN/) });
    expect(rig.qmpServer.received.some((m) => m.execute === 'human-monitor-command')).toBe(false);
    no.close();
  });

  it('sends a screenshot as PNG converted from the QMP screendump, and removes the PPM', async () => {
    const ws = await open('/v1/screendump', 'vnc:view', { subprotocols: ['xepa'] });
    const shot = await readScreenshot(ws);
    expect([shot.width, shot.height]).toEqual([2, 1]);
    const idat = shot.png.subarray(shot.png.indexOf('IDAT') + 4, shot.png.indexOf('IEND') - 8);
    const raw = inflateSync(idat);
    // one row, Sub filter: red, then blue minus red
    expect([...raw]).toEqual([1, 255, 0, 0, 1, 0, 255]);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(`${rig.dir}/screendumps`)).toEqual([]);
  });
});
