import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { guardSocket, guardWebSocket } from '../../../agent/api/index.js';
import { dialConsole } from '../../../agent/console/unix-connect.js';

// The structural error guard: a socket or WebSocket it guards turns an 'error' (which without a listener would
// end the process) into a log line and a close. Real sockets on loopback and in a temp dir; vitest fails the run
// on any unhandled error, so each test also proves that nothing escaped.
const dir = mkdtempSync(join(tmpdir(), 'xepa-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LogRecord { level: number; msg: string; code?: string; upstream?: string }
function capturedLog(): { log: pino.Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { log, records };
}
const closed = (s: net.Socket): Promise<void> => new Promise((r) => (s.closed ? r() : s.once('close', () => r())));

describe('guardWebSocket', () => {
  it('answers a peer that breaks the protocol with 1002, logs the ws code, and cuts it after the grace period', async () => {
    const { log, records } = capturedLog();
    const wss = new WebSocketServer({ noServer: true });
    const http: Server = createServer();
    let serverSide: Promise<void> | undefined;
    http.on('upgrade', (req, socket, head) => {
      serverSide = new Promise((r) => socket.once('close', () => r()));
      wss.handleUpgrade(req, socket, head, (ws) => guardWebSocket(ws, log, { path: '/t' }, 200));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const port = (http.address() as net.AddressInfo).port;

    // allowHalfOpen: the client keeps its side open after the server's FIN, as a hostile peer may.
    const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = Buffer.alloc(0);
    c.on('data', (d: Buffer) => void (got = Buffer.concat([got, d])));
    const key = randomBytes(16).toString('base64');
    // The upgrade, then an unmasked binary frame (RFC 6455 §5.1: a server must close on it). The client never
    // answers the server's close frame nor its FIN: only the guard's grace period ends the server's socket (ws
    // alone would hold it half-open for 30 s).
    c.write(`GET /t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    c.write(Buffer.from([0x82, 0x02, 0x68, 0x69]));
    const t0 = Date.now();
    await new Promise<void>((r) => c.once('end', () => r())); // the server's close frame and FIN
    await serverSide;
    const took = Date.now() - t0;
    const frame = got.subarray(got.indexOf('\r\n\r\n') + 4);
    expect(frame[0]).toBe(0x88); // FIN + close
    expect(frame.readUInt16BE(2)).toBe(1002);
    expect(took).toBeLessThan(3000);
    c.destroy();
    expect(records.find((r) => r.msg === 'websocket protocol error: closing')).toMatchObject({ code: 'WS_ERR_EXPECTED_MASK', path: '/t' });
    wss.close();
    await new Promise((r) => http.close(r));
  });
});

describe('guardSocket', () => {
  it('turns a socket error into a logged close, and guarding twice adds one listener', async () => {
    const { log, records } = capturedLog();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r)); // nothing listens there now: connecting fails with ECONNREFUSED
    const s = guardSocket(guardSocket(net.connect(port, '127.0.0.1'), log, { remote: 'x' }), log);
    expect(s.listenerCount('error')).toBe(1);
    await closed(s);
    expect(s.destroyed).toBe(true);
    expect(records).toEqual([expect.objectContaining({ code: 'ECONNREFUSED', msg: 'socket error: closed', level: 20 })]);
  });
});

describe('dialConsole', () => {
  it.each([false, true])('ends a dial to a missing QEMU socket in close, logged at info with its path (pooled reads: %s)', async (pooled) => {
    const { log, records } = capturedLog();
    const path = join(dir, `missing-${String(pooled)}.sock`);
    const { socket } = dialConsole(path, { log, pooled });
    await closed(socket as net.Socket);
    expect(records).toEqual([expect.objectContaining({ code: 'ENOENT', upstream: path, level: 30 })]);
  });

  it('survives QEMU resetting the socket while the console writes to it', async () => {
    const { log, records } = capturedLog();
    const path = join(dir, 'qemu.sock');
    const qemu = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => qemu.listen(path, () => r()));
    const { socket } = dialConsole(path, { log });
    const chunk = Buffer.alloc(64 << 10, 0x61);
    const write = (): void => {
      while (!socket.destroyed && socket.write(chunk));
      if (!socket.destroyed) socket.once('drain', write);
    };
    socket.once('connect', write);
    await closed(socket as net.Socket);
    expect(records.map((r) => r.code)).toEqual([expect.stringMatching(/^(EPIPE|ECONNRESET)$/)]);
    await new Promise((r) => qemu.close(r));
  });
});
