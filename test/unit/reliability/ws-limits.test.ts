import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenFor } from '../api/fixtures.js';
import { MAX_IN_FLIGHT } from '../../../agent/api/control-connection.js';
import { closeCode, helloFrame, openWs, rawUpgrade, recordingHandlers, roundTrip, startTestServer, type TestServer } from './support.js';

// The WebSocket edge of the real server: Origin, frame limits, connections per scope, slowloris.
// Each refusal is observed on the wire, counted in stats(), and leaves other clients served.
let t: TestServer | undefined;
afterEach(async () => {
  await t?.server.close();
  t = undefined;
});

// A TLS connection that has shaken hands and sent nothing (or what the test writes).
function tlsSocket(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}
const closed = (s: TLSSocket): Promise<void> => (s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r())));

describe('Origin', () => {
  it('refuses a browser (Origin header) with ERR_FORBIDDEN when no origin is allowed, and counts it', async () => {
    t = await startTestServer();
    const a = await rawUpgrade(t.server.port, '/v1/control', { Authorization: `Bearer ${tokenFor(t.keys)}`, Origin: 'https://evil.example' });
    expect(a.code).toBe('ERR_FORBIDDEN');
    expect(a.status).toBe(403);
    expect(a.upgraded).toBe(false);
    expect(t.server.stats().refused.ERR_FORBIDDEN).toBe(1);
  });

  it('accepts a listed origin and still refuses any other, even with a valid token', async () => {
    t = await startTestServer({ allowedOrigins: ['https://console.example'] });
    const ok = await openWs(t.server.port, '/v1/control', tokenFor(t.keys), { origin: 'https://console.example' });
    expect((await roundTrip(ok, helloFrame())).id).toBe('h');
    ok.close();
    const bad = await rawUpgrade(t.server.port, '/v1/control', { Authorization: `Bearer ${tokenFor(t.keys)}`, Origin: 'https://console.example.evil' });
    expect(bad.code).toBe('ERR_FORBIDDEN');
  });
});

describe('frames', () => {
  it('closes a connection that sends a frame over 1 MiB (1009) while another connection keeps being answered', async () => {
    t = await startTestServer();
    const other = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const abuser = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const code = closeCode(abuser);
    abuser.send('x'.repeat((1 << 20) + 1));
    expect(await code).toBe(1009);
    expect(await roundTrip(other, helloFrame('after'))).toMatchObject({ id: 'after', result: { protocol: 1 } });
    other.close();
  });

  it('closes a connection that sends invalid UTF-8 in a text frame (1007) and serves the next one', async () => {
    t = await startTestServer();
    const abuser = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const code = closeCode(abuser);
    abuser.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await code).toBe(1007);
    const next = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect((await roundTrip(next, helloFrame())).id).toBe('h');
    next.close();
  });
});

describe('requests in progress per connection', () => {
  it('refuses requests beyond the in-progress cap at once with ERR_UNAVAILABLE and their id, then answers the rest', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { handlers } = recordingHandlers();
    const slow = new Proxy(handlers, { get: (t, m) => (m === 'inventory' ? async () => (await gate, {}) : Reflect.get(t, m)) });
    t = await startTestServer({ handlers: slow });
    const ws = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const replies: { id: string; error?: { code: string } }[] = [];
    const all = new Promise<void>((resolve) => ws.on('message', (m) => {
      replies.push(JSON.parse(String(m)) as (typeof replies)[number]);
      if (replies.length === MAX_IN_FLIGHT + 8) resolve();
    }));
    for (let i = 0; i < MAX_IN_FLIGHT + 8; i++) ws.send(JSON.stringify({ id: `r${i}`, key: `k${i}`, method: 'inventory', params: {} }));
    await new Promise<void>((r) => { const check = (): void => void (replies.length >= 8 ? r() : setTimeout(check, 10)); check(); });
    expect(replies.map((r) => r.error?.code)).toEqual(Array(8).fill('ERR_UNAVAILABLE'));
    expect(replies.map((r) => r.id)).toEqual(Array.from({ length: 8 }, (_, i) => `r${MAX_IN_FLIGHT + i}`));
    release();
    await all;
    expect(replies.slice(8).every((r) => r.error === undefined)).toBe(true);
    ws.close();
  });
});

describe('connections per scope', () => {
  it('refuses the connection over the scope limit with 503 ERR_UNAVAILABLE, counts it, and admits again once one closes', async () => {
    t = await startTestServer({ limits: { perScope: { control: 2 } } });
    const a = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const b = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect(t.server.stats().open.control).toBe(2);
    const third = await rawUpgrade(t.server.port, '/v1/control', { Authorization: `Bearer ${tokenFor(t.keys)}` });
    expect(third.code).toBe('ERR_UNAVAILABLE');
    expect(third.status).toBe(503);
    expect(t.server.stats().refused.ERR_UNAVAILABLE).toBe(1);
    const gone = closeCode(a);
    a.close();
    await gone;
    await new Promise((r) => setTimeout(r, 50)); // the server sees the close after the client does
    const c = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect((await roundTrip(c, helloFrame())).id).toBe('h');
    expect(t.server.stats().open.control).toBe(2);
    b.close();
    c.close();
  });

  it('does not burn a console token on a connection refused for the limit', async () => {
    t = await startTestServer({
      limits: { perScope: { vnc: 1 } },
      routes: [{ path: '/v1/probe', scope: 'vnc', maxPayload: 1024, onConnection: () => undefined }],
    });
    const first = await openWs(t.server.port, '/v1/probe', tokenFor(t.keys, ['vnc']));
    const token = tokenFor(t.keys, ['vnc']);
    expect((await rawUpgrade(t.server.port, '/v1/probe', { Authorization: `Bearer ${token}` })).code).toBe('ERR_UNAVAILABLE');
    const gone = closeCode(first);
    first.terminate();
    await gone;
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawUpgrade(t.server.port, '/v1/probe', { Authorization: `Bearer ${token}` })).status).toBe(101);
  });
});

describe('slowloris', () => {
  it('closes connections whose headers never finish, counts them, and keeps serving an open control connection', async () => {
    t = await startTestServer({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const live = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const slow = await Promise.all(Array.from({ length: 5 }, () => tlsSocket(t!.server.port)));
    for (const s of slow) s.write('GET /v1/control HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); // never the blank line
    // Dribbling one header byte at a time does not keep a connection alive past the deadline (bounded: 100 bytes).
    const dribble = setInterval(() => slow.forEach((s) => s.writable && s.write('X')), 50);
    try {
      await Promise.all(slow.map(closed));
    } finally {
      clearInterval(dribble);
    }
    expect(t.server.stats().refused.timeout).toBe(5);
    expect((await roundTrip(live, helloFrame('live'))).id).toBe('live');
    live.close();
  });

  it('bounds connections that have not upgraded: a newcomer evicts the oldest idle one (counted), an established one is unaffected', async () => {
    // No grace: these idle connections count as old at once (the grace is tested in admission-server.test.ts).
    t = await startTestServer({ limits: { maxPendingConnections: 3, pendingGraceMs: 0 } });
    const live = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    const idle: TLSSocket[] = [];
    for (let i = 0; i < 3; i++) idle.push(await tlsSocket(t.server.port)); // one by one: their age order is known
    expect(t.server.stats().pending).toBe(3);
    const over = await tlsSocket(t.server.port);
    await closed(idle[0]!);
    expect(t.server.stats().refused['pending-limit']).toBe(1); // the pool's budget (3) is below one address's (64)
    expect(t.server.stats().pending).toBe(3);
    expect([idle[1]!.destroyed, idle[2]!.destroyed, over.destroyed]).toEqual([false, false, false]);
    expect((await roundTrip(live, helloFrame('live'))).id).toBe('live');
    // A new client gets in at once, without waiting for any deadline: it pushes out the next oldest idle connection.
    const next = await openWs(t.server.port, '/v1/control', tokenFor(t.keys));
    expect((await roundTrip(next, helloFrame('next'))).id).toBe('next');
    await closed(idle[1]!);
    expect(t.server.stats().refused['pending-limit']).toBe(2);
    for (const s of [idle[2]!, over]) s.destroy();
    live.close();
    next.close();
  });
});
