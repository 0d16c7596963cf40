import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RfbClientFilter, type RfbAccess } from '../../../agent/console/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import * as F from './rfb-fixtures.js';

// Runs a whole client stream through a filter that has seen the server's hello; returns what was forwarded.
function run(access: RfbAccess, client: Buffer, serverHello: Buffer = F.SERVER_HELLO_38_NONE, chunks: number[] = [client.length]): { out: Buffer; filter: RfbClientFilter } {
  const filter = new RfbClientFilter(access);
  filter.pushServer(serverHello);
  const out: Buffer[] = [];
  let at = 0;
  for (const n of chunks) {
    out.push(filter.pushClient(client.subarray(at, at + n)));
    at += n;
  }
  if (at < client.length) out.push(filter.pushClient(client.subarray(at)));
  return { out: Buffer.concat(out), filter };
}

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

const display = Buffer.concat([F.SET_PIXEL_FORMAT, F.SET_ENCODINGS, F.FB_UPDATE_REQUEST, F.CLIENT_FENCE, F.ENABLE_CONTINUOUS, F.QEMU_AUDIO_ENABLE, F.QEMU_AUDIO_FORMAT, F.FB_UPDATE_REQUEST_INCR]);
const input = Buffer.concat([
  F.keyEvent(true, 0x61), F.keyEvent(false, 0x61), F.POINTER_EVENT, F.cutText('rm -rf /'), F.EXTENDED_CUT_TEXT,
  F.QEMU_EXT_KEY, F.XVP_REBOOT, F.SET_DESKTOP_SIZE, F.GII_LE,
]);

describe('RFB client filter', () => {
  it('drops every input message of a view-only viewer and forwards its display requests byte for byte', () => {
    const mixed = Buffer.concat([F.CLIENT_HANDSHAKE_38, F.SET_ENCODINGS, F.keyEvent(true, 0x72), F.FB_UPDATE_REQUEST, F.POINTER_EVENT, F.QEMU_EXT_KEY, F.FB_UPDATE_REQUEST_INCR]);
    const { out, filter } = run('view', mixed);
    expect(out).toEqual(Buffer.concat([F.FORWARDED_HANDSHAKE_38, F.SET_ENCODINGS, F.FB_UPDATE_REQUEST, F.FB_UPDATE_REQUEST_INCR]));
    expect(filter.dropped).toEqual({ key: 2, pointer: 1, clipboard: 0, control: 0 });
  });

  it('drops keys, pointer, clipboard (plain and extended), QEMU key events, gii, xvp and SetDesktopSize', () => {
    const { out, filter } = run('view', Buffer.concat([F.CLIENT_HANDSHAKE_38, input, display]));
    expect(out).toEqual(Buffer.concat([F.FORWARDED_HANDSHAKE_38, display]));
    expect(filter.dropped).toEqual({ key: 3, pointer: 2, clipboard: 2, control: 2 });
  });

  it('gives the same output however the stream is cut into chunks', () => {
    const stream = Buffer.concat([F.CLIENT_HANDSHAKE_38, input, display, input]);
    const expected = Buffer.concat([F.FORWARDED_HANDSHAKE_38, display]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), (cuts) => {
        expect(run('view', stream, F.SERVER_HELLO_38_NONE, cuts).out).toEqual(expected);
      }),
    );
  });

  it('forces the shared flag of ClientInit so no viewer can disconnect the others', () => {
    expect(run('full', F.CLIENT_HANDSHAKE_38).out).toEqual(F.FORWARDED_HANDSHAKE_38);
    expect(run('view', F.CLIENT_HANDSHAKE_38).out).toEqual(F.FORWARDED_HANDSHAKE_38);
  });

  it('passes a full-access stream through untouched after ClientInit, input included', () => {
    const { out, filter } = run('full', Buffer.concat([F.CLIENT_HANDSHAKE_38, input, display]));
    expect(out).toEqual(Buffer.concat([F.FORWARDED_HANDSHAKE_38, input, display]));
    expect(filter.passthrough).toBe(true);
    const later = Buffer.from([0xde, 0xad]); // not even RFB: a full client's bytes are not parsed at all
    expect(filter.pushClient(later)).toBe(later);
  });

  it('follows VNC authentication: the 16-byte response is forwarded and framing starts after ClientInit', () => {
    const client = Buffer.concat([F.VERSION_38, F.SECURITY_VNC_AUTH, F.VNC_AUTH_RESPONSE, F.CLIENT_INIT_SHARED, F.keyEvent(true, 0x61), F.FB_UPDATE_REQUEST]);
    expect(run('view', client).out).toEqual(Buffer.concat([F.VERSION_38, F.SECURITY_VNC_AUTH, F.VNC_AUTH_RESPONSE, F.CLIENT_INIT_SHARED, F.FB_UPDATE_REQUEST]));
  });

  it('follows an RFB 3.3 handshake, where the server picks the security type', () => {
    const client = Buffer.concat([F.VERSION_33, F.CLIENT_INIT_EXCLUSIVE, F.keyEvent(true, 0x61), F.FB_UPDATE_REQUEST]);
    const { out } = run('view', client, F.serverHello33(1), [12]);
    expect(out).toEqual(Buffer.concat([F.VERSION_33, F.CLIENT_INIT_SHARED, F.FB_UPDATE_REQUEST]));
  });

  it('refuses an RFB 3.3 client that speaks before the server chose the security type', () => {
    const filter = new RfbClientFilter('view');
    filter.pushServer(F.VERSION_33);
    filter.pushClient(F.VERSION_33);
    const err = thrown(() => filter.pushClient(F.CLIENT_INIT_SHARED));
    expect(isXepaError(err, 'ERR_BAD_REQUEST')).toBe(true);
  });

  it('refuses (ERR_FORBIDDEN) a view-only viewer choosing a security type it cannot follow, such as VeNCrypt', () => {
    const err = thrown(() => run('view', Buffer.concat([F.VERSION_38, F.SECURITY_VENCRYPT])));
    expect(isXepaError(err, 'ERR_FORBIDDEN')).toBe(true);
  });

  it('lets a full-access viewer use a security type it cannot follow, passing it through', () => {
    const bytes = Buffer.concat([F.VERSION_38, F.SECURITY_VENCRYPT, Buffer.from([0, 2, 1, 0])]);
    expect(run('full', bytes).out).toEqual(bytes);
  });

  it('refuses (ERR_BAD_REQUEST) a view-only message type it cannot frame, rather than guessing', () => {
    const err = thrown(() => run('view', Buffer.concat([F.CLIENT_HANDSHAKE_38, Buffer.from([7, 0, 0, 0])])));
    expect(isXepaError(err, 'ERR_BAD_REQUEST')).toBe(true);
    const sub = thrown(() => run('view', Buffer.concat([F.CLIENT_HANDSHAKE_38, Buffer.from([255, 9, 0, 0])])));
    expect(isXepaError(sub, 'ERR_BAD_REQUEST')).toBe(true);
  });

  it('refuses (ERR_BAD_REQUEST) a stream that does not start with an RFB 3.x version', () => {
    const err = thrown(() => run('view', Buffer.from('GET / HTTP/1.1\r\n')));
    expect(isXepaError(err, 'ERR_BAD_REQUEST')).toBe(true);
  });

  it('skips a huge clipboard message as it streams, without holding it', () => {
    const filter = new RfbClientFilter('view');
    filter.pushServer(F.SERVER_HELLO_38_NONE);
    filter.pushClient(F.CLIENT_HANDSHAKE_38);
    const size = 8 << 20;
    const header = F.cutText('').subarray(0, 4);
    const head = Buffer.concat([header, Buffer.from([(size >>> 24) & 0xff, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff])]);
    expect(filter.pushClient(head)).toHaveLength(0);
    const block = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 8; i++) expect(filter.pushClient(block)).toHaveLength(0);
    expect(filter.pushClient(F.FB_UPDATE_REQUEST)).toEqual(F.FB_UPDATE_REQUEST);
    expect(filter.dropped.clipboard).toBe(1);
  });

  it('stops watching the server once its handshake bytes are seen', () => {
    const filter = new RfbClientFilter('full');
    expect(filter.observingServer).toBe(true);
    filter.pushServer(Buffer.concat([F.SERVER_HELLO_38_NONE, Buffer.alloc(8)]));
    expect(filter.observingServer).toBe(false);
  });
});
