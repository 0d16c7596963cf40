import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { OP, frame } from './ws-frames.js';

// A WebSocket client written by hand over TLS, for sending what no WebSocket library would: malformed frames
// right after a real upgrade, and transport faults (TCP resets, half-closes) in the middle of a frame or of the
// handshake. `raw` is the TCP socket under the TLS one, so resetAndDestroy() sends a real RST.

/** A TLS connection to the agent and the TCP socket it runs on. */
export interface RawConnection {
  raw: net.Socket;
  tls: TLSSocket;
  closed: Promise<void>; // the TLS socket closed (either side)
}

// Opens TCP and completes the TLS handshake.
export function openTls(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => undefined); // a reset we send ourselves
    const t = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve({ raw, tls: t, closed }));
    const closed = new Promise<void>((r) => t.once('close', () => r()));
    t.once('error', reject);
    t.on('error', () => undefined);
  });
}

// The bytes of an upgrade request carrying a bearer token.
export function upgradeRequest(path: string, token: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: binary, xepa\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    'latin1',
  );
}

/** What the agent answered: the HTTP status, then the code of its close frame (if it sent one). */
export interface Exchange {
  status: number;
  closeCode?: number;
  frames: number; // frames the agent sent, the close frame included
}

// Reads the agent's upgrade answer, then its frames until a close frame (answered by ending our side) or the
// end of the connection. Rejects after timeoutMs naming what was seen.
export function readExchange(c: RawConnection, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const ex: Exchange = { status: 0, frames: 0 };
    const timer = setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms (status ${ex.status}, ${ex.frames} frames)`)), timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      resolve(ex);
    };
    c.tls.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (ex.status === 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        ex.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? -1);
        buf = buf.subarray(end + 4);
        if (ex.status !== 101) return c.tls.end();
      }
      for (;;) {
        const f = parseServerFrame(buf);
        if (!f) return;
        buf = buf.subarray(f.size);
        ex.frames++;
        if (f.opcode === OP.close) {
          ex.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
          c.tls.end(); // answer by ending our side: the agent may close at once
          return;
        }
      }
    });
    void c.closed.then(finish);
  });
}

// One unmasked server frame at the start of buf, or undefined when it is not complete yet.
function parseServerFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  if (buf.length < off + len) return undefined;
  return { opcode, payload: buf.subarray(off, off + len), size: off + len };
}

// Waits for the agent's 101 (and nothing else) on an upgraded connection.
export function awaitUpgrade(c: RawConnection, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no upgrade answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      c.tls.off('data', onData);
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? -1));
    };
    c.tls.on('data', onData);
  });
}

/** The transport faults: where the connection is cut, and how (RST, or FIN after what was sent). */
export type TransportFault =
  | 'RST mid-frame'
  | 'half-close mid-frame'
  | 'RST mid-TLS-handshake'
  | 'FIN mid-TLS-handshake'
  | 'RST mid-upgrade-request'
  | 'FIN mid-upgrade-request'
  | 'RST right after the upgrade request';

// Faults that reach a route (a WebSocket exists, or the upgrade request is complete): run per route and scope.
export const ROUTE_FAULTS: readonly TransportFault[] = ['RST mid-frame', 'half-close mid-frame', 'RST right after the upgrade request'];
// Faults cut before the agent knows the route (TLS handshake, a request's headers): run once per path.
export const HANDSHAKE_FAULTS: readonly TransportFault[] = ['RST mid-TLS-handshake', 'FIN mid-TLS-handshake', 'RST mid-upgrade-request', 'FIN mid-upgrade-request'];

// The first bytes of a TLS 1.2 ClientHello record, cut short.
const PARTIAL_CLIENT_HELLO = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), randomBytes(20)]);

// Commits one transport fault against `path`; resolves with the upgrade status where one was read (mid-frame
// faults) once the connection is gone. A half-close must be answered by the agent closing its side.
export async function transportFault(port: number, path: string, token: string, fault: TransportFault): Promise<number | undefined> {
  if (fault.endsWith('TLS-handshake')) {
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', () => resolve());
      raw.once('error', reject);
    });
    await new Promise<void>((r) => raw.write(PARTIAL_CLIENT_HELLO, () => r()));
    if (fault.startsWith('RST')) raw.resetAndDestroy();
    else raw.end();
    await new Promise<void>((r) => (raw.destroyed && raw.closed ? r() : raw.once('close', () => r())));
    return undefined;
  }
  const c = await openTls(port);
  c.tls.resume(); // whatever the agent answers is read, so its close reaches us
  const req = upgradeRequest(path, token);
  const cut = (): void => void (fault.startsWith('RST') ? c.raw.resetAndDestroy() : c.tls.end());
  if (fault.endsWith('upgrade-request')) {
    await new Promise<void>((r) => c.tls.write(req.subarray(0, req.length >> 1), () => r()));
    cut();
  } else if (fault === 'RST right after the upgrade request') {
    await new Promise<void>((r) => c.tls.write(req, () => r()));
    cut();
  } else {
    const upgraded = awaitUpgrade(c);
    c.tls.write(req);
    const status = await upgraded;
    // A header announcing 200 bytes, and 50 of them.
    const partial = frame({ opcode: OP.binary, payload: Buffer.alloc(200, 0x5a) }).subarray(0, 2 + 4 + 50);
    await new Promise<void>((r) => c.tls.write(partial, () => r()));
    cut();
    await within(c.closed, 5000, `the agent did not close the connection after a ${fault} on ${path}`);
    return status;
  }
  await within(c.closed, 5000, `the connection did not close after a ${fault} on ${path}`);
  return undefined;
}

// Resolves with p, or rejects naming `what` after ms.
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms)));
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
