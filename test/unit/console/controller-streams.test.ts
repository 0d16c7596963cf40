import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XepaError } from '../../../agent/protocol/index.js';
import { RfbClient, socketTransport } from '../../../bench/console-rfb-client.js';
import { attachTerminal, openAgentStream, startPortForward } from '../../../controller/console/index.js';
import { tokenFor } from '../api/fixtures.js';
import { startConsoleRig, type ConsoleRig } from './console-fixtures.js';
import * as F from './rfb-fixtures.js';

describe('controller console streams', () => {
  let rig: ConsoleRig;
  beforeAll(async () => {
    rig = await startConsoleRig();
  });
  afterAll(() => rig?.close());

  it('refuses (ERR_TLS_PIN) an agent whose certificate is not the pinned one, before sending the token', async () => {
    const err = await openAgentStream({ url: rig.url, fingerprint: 'AA'.repeat(32), token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as XepaError).code).toBe('ERR_TLS_PIN');
  });

  it('forwards a local TCP port to /v1/vnc with a fresh token per connection, for native viewers', async () => {
    let minted = 0;
    const fw = await startPortForward({
      listen: { port: 0 },
      open: () => {
        minted++;
        return openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc', pingIntervalMs: 0 });
      },
    });
    try {
      expect(fw.address).toMatch(/^127\.0\.0\.1:\d+$/);
      for (let i = 0; i < 2; i++) {
        const sock = net.connect(fw.port!, '127.0.0.1');
        const rfb = await RfbClient.connect(socketTransport(sock));
        expect(rfb.name).toBe('fake');
        const u = rfb.nextUpdate();
        rfb.requestUpdate(false);
        expect((await u).pixelBytes).toBe(4);
        rfb.close();
      }
      expect(minted).toBe(2);
    } finally {
      await fw.close();
    }
  });

  it('closes the local connection and reports the agent error when the stream cannot be opened', async () => {
    rig.setRunning(false);
    const errors: Error[] = [];
    const fw = await startPortForward({
      listen: { port: 0 },
      open: () => openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc', pingIntervalMs: 0 }),
      onEvent: (e) => e.kind === 'error' && errors.push(e.error),
    });
    try {
      const sock = net.connect(fw.port!, '127.0.0.1');
      await new Promise((r) => sock.once('close', r));
      expect((errors[0] as XepaError).code).toBe('ERR_NOT_FOUND');
    } finally {
      rig.setRunning(true);
      await fw.close();
    }
  });

  it('detaches a terminal on Ctrl-] without sending it, and sends what was typed before it', async () => {
    const index = rig.vnc.clients.length;
    const ws = await openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['vnc']), path: '/v1/vnc', pingIntervalMs: 0 });
    const input = new PassThrough();
    const output = new PassThrough();
    const attached = attachTerminal(ws, { input, output });
    input.write(Buffer.concat([F.VERSION_38, Buffer.from([1, 1, 0x1d, 0x41])]));
    expect(await attached).toEqual({ reason: 'detached' });
    const seen = await rig.vnc.untilBytes(14, index);
    expect(seen).toEqual(F.FORWARDED_HANDSHAKE_38); // version, None, ClientInit made shared; nothing after Ctrl-]
    expect(output.read()?.subarray(0, 12)).toEqual(F.VERSION_38);
  });
});
