import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenFor } from '../api/fixtures.js';
import { helloFrame, openWs, roundTrip, startTestServer, type TestServer } from './support.js';

// Fair admission on the real server, several sources on loopback (127.0.0.2, .3 ... are all this host's on Linux):
// unauthenticated connections — raw TCP that never starts TLS included — share a pool with a per-source budget;
// a flood pushes out only its own oldest connections, and WebSockets have budgets the pool never touches.
let t: TestServer | undefined;
const opened: (Socket | TLSSocket)[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await t?.server.close();
  t = undefined;
});

const closed = (s: Socket): Promise<void> => (s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r())));

// A raw TCP connection from `from` that never sends a byte.
function rawTcp(port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
    opened.push(s);
    s.once('error', reject);
  });
}

// A TLS connection from `from` that has shaken hands and then says nothing.
function idleTls(port: number, from: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress: from });
    const s = tlsConnect({ socket: tcp, rejectUnauthorized: false }, () => resolve(s));
    opened.push(s);
    s.once('error', reject);
  });
}

// Polls the server's stats until `pred` holds (the server sees an accept a moment after the client's connect).
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

describe('fair admission of unauthenticated connections', () => {
  it('counts raw TCP connects that never start TLS, evicts the oldest, and a client still connects and is answered', async () => {
    t = await startTestServer({ limits: { maxPendingConnections: 8, maxPendingPerSource: 8, pendingGraceMs: 0 } });
    const flood: Socket[] = [];
    for (let i = 0; i < 8; i++) flood.push(await rawTcp(t.server.port, '127.0.0.2'));
    await until(() => t!.server.stats().pending === 8, '8 pending');
    for (let i = 0; i < 4; i++) flood.push(await rawTcp(t.server.port, '127.0.0.2'));
    await Promise.all(flood.slice(0, 4).map(closed));
    expect(t.server.stats().refused['source-limit']).toBe(4);
    const ws = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect((await roundTrip(ws, helloFrame('in'))).id).toBe('in');
    await closed(flood[4]!); // the next oldest made room for it, and only that one
    expect(flood.slice(5).some((s) => s.destroyed)).toBe(false);
    expect(t.server.stats().pending).toBe(7); // the client's connection left the pool when it upgraded
    ws.close();
  });

  it('never evicts a lone connection of another source while one source floods past its budget', async () => {
    t = await startTestServer({ limits: { maxPendingConnections: 12, maxPendingPerSource: 6, pendingGraceMs: 0 } });
    const bystander = await idleTls(t.server.port, '127.0.0.3');
    const flood: TLSSocket[] = [];
    for (let i = 0; i < 30; i++) flood.push(await idleTls(t.server.port, '127.0.0.2'));
    await Promise.all(flood.slice(0, 24).map(closed));
    expect(bystander.destroyed).toBe(false);
    expect(t.server.stats()).toMatchObject({ pending: 7, pendingSources: 2, refused: { 'source-limit': 24 } });
  });

  it('evicts from the source holding the most when the pool is full, even when another holds an older connection', async () => {
    t = await startTestServer({ limits: { maxPendingConnections: 6, maxPendingPerSource: 6 } });
    const oldest = await idleTls(t.server.port, '127.0.0.3');
    const heavy: TLSSocket[] = [];
    for (let i = 0; i < 5; i++) heavy.push(await idleTls(t.server.port, '127.0.0.2'));
    const newcomer = await idleTls(t.server.port, '127.0.0.4');
    await closed(heavy[0]!);
    expect([oldest.destroyed, newcomer.destroyed]).toEqual([false, false]);
    expect(t.server.stats().refused['pending-limit']).toBe(1);
  });

  it('refuses, before any TLS, the newcomer of a full source whose connections are younger than the grace; others get in', async () => {
    t = await startTestServer({ limits: { maxPendingConnections: 64, maxPendingPerSource: 4, pendingGraceMs: 60_000 } });
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) held.push(await rawTcp(t.server.port, '127.0.0.2'));
    await until(() => t!.server.stats().pending === 4, '4 pending');
    const refused = await idleTls(t.server.port, '127.0.0.2').then(
      () => 'handshake completed',
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    expect(refused).toBe('ECONNRESET');
    expect(t.server.stats().refused['source-limit']).toBe(1);
    expect(held.some((s) => s.destroyed)).toBe(false);
    const ws = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect((await roundTrip(ws, helloFrame('other'))).id).toBe('other');
    ws.close();
  });

  it('admits WebSockets up to their scope budget while the unauthenticated pool is full', async () => {
    t = await startTestServer({ limits: { maxPendingConnections: 4, maxPendingPerSource: 4, perScope: { control: 6 } } });
    for (let i = 0; i < 4; i++) await rawTcp(t.server.port, '127.0.0.2');
    await until(() => t!.server.stats().pending === 4, '4 pending');
    const sockets = [];
    for (let i = 0; i < 6; i++) sockets.push(await openWs(t.server.port, '/v1/control', tokenFor(t.keys)));
    expect(t.server.stats().open.control).toBe(6);
    for (const [i, ws] of sockets.entries()) expect((await roundTrip(ws, helloFrame(`w${i}`))).id).toBe(`w${i}`);
    for (const ws of sockets) ws.close();
  });
});
