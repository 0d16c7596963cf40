import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { JobEvent } from '../../../agent/protocol/index.js';
import { createWebConsole, webAssetsFrom, type WebConsole } from '../../../controller/web/index.js';
import { httpRequest, openWs, serveHandlers, startFakeAgent } from './fake-agent.js';

const key = generateKeyPairSync('ed25519');
const assets = webAssetsFrom({ 'console.js': 'console.log(1)', 'console.css': 'body{}', 'login.js': 'void 0' });
const ev = (seq: number, state: JobEvent['state'], message: string): JobEvent => ({ job: 'j1', seq, ts: new Date(seq * 1000).toISOString(), state, message });

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// A console on a loopback port (the port is known only after listening, so the console is attached then).
async function setup(o: { secure?: boolean; events?: JobEvent[]; qmpCalls?: unknown[] } = {}) {
  const fake = await startFakeAgent({ events: o.events ?? [] });
  let web: WebConsole | undefined;
  const { server, port } = await serveHandlers({
    request: (req, res) => (web as WebConsole).handleRequest(req, res),
    upgrade: (req, socket, head) => (web as WebConsole).handleUpgrade(req, socket, head),
  });
  const origin = `http://127.0.0.1:${port}`;
  web = createWebConsole({
    agent: fake.agent, publicUrl: origin, secure: o.secure ?? false, signingKey: key, assets,
    qmp: async (job, execute, args) => void o.qmpCalls?.push({ job, execute, args }),
  });
  cleanups.push(() => fake.close(), () => closeServer(server), () => web?.close());
  const login = async (role: 'control' | 'view' = 'control'): Promise<string> => {
    const t = new URL(web!.loginLink(role)).searchParams.get('t')!;
    const r = await httpRequest(port, 'POST', '/login', { headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `t=${t}` });
    expect(r.status).toBe(303);
    return /^([^;]+)/.exec(String(r.headers['set-cookie']))![1]!;
  };
  return { fake, port, origin, web: web!, login };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

const closed = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));

describe('web console login', () => {
  it('exchanges a one-time link for an HttpOnly SameSite=Strict session cookie, once', async () => {
    const { port, origin, web } = await setup();
    const link = new URL(web.loginLink('control'));
    expect(link.origin).toBe(origin);
    const t = link.searchParams.get('t')!;

    const page = await httpRequest(port, 'GET', `/login?t=${t}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('method="post" action="/login"');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");

    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect((await httpRequest(port, 'POST', '/login', { headers: form, body: `t=${t}` })).status).toBe(403); // no Origin
    expect((await httpRequest(port, 'POST', '/login', { headers: { ...form, Origin: 'http://evil.example' }, body: `t=${t}` })).status).toBe(403);

    const ok = await httpRequest(port, 'POST', '/login', { headers: { ...form, Origin: origin }, body: `t=${t}` });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^xepa_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    expect(cookie).not.toContain(t);

    const again = await httpRequest(port, 'POST', '/login', { headers: { ...form, Origin: origin }, body: `t=${t}` });
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect((await httpRequest(port, 'GET', `/login?t=${t}`)).body).toMatch(/already used/);
  });

  it('serves the console page only with a session, and forgets it at logout', async () => {
    const { port, origin, login } = await setup();
    expect((await httpRequest(port, 'GET', '/')).status).toBe(401);
    expect((await httpRequest(port, 'GET', '/api/session')).status).toBe(401);
    const cookie = await login('view');
    const page = await httpRequest(port, 'GET', '/', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-role="view"');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(JSON.parse((await httpRequest(port, 'GET', '/api/session', { headers: { Cookie: cookie } })).body)).toMatchObject({ role: 'view', agentId: 'agent-test' });
    const out = await httpRequest(port, 'POST', '/logout', { headers: { Cookie: cookie, Origin: origin } });
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect((await httpRequest(port, 'GET', '/', { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it('answers only to its own Host name', async () => {
    const { port } = await setup();
    expect((await httpRequest(port, 'GET', '/', { headers: { Host: `rebind.example:${port}` } })).status).toBe(403);
  });

  it('sets a Secure __Host- cookie when served over TLS', async () => {
    const { port, origin, web } = await setup({ secure: true });
    const t = new URL(web.loginLink('control')).searchParams.get('t')!;
    const ok = await httpRequest(port, 'POST', '/login', { headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `t=${t}` });
    expect(String(ok.headers['set-cookie'])).toMatch(/^__Host-xepa_session=.*; Secure$/);
  });

  it('serves the browser files to anyone, with an ETag', async () => {
    const { port } = await setup();
    const js = await httpRequest(port, 'GET', '/assets/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await httpRequest(port, 'GET', '/assets/console.js', { headers: { 'If-None-Match': String(js.headers.etag) } })).status).toBe(304);
    expect((await httpRequest(port, 'GET', '/assets/../../etc/passwd')).status).not.toBe(200);
  });
});

describe('web console streams', () => {
  it('checks Origin and session before any upgrade', async () => {
    const { port, origin, login, fake } = await setup();
    const cookie = await login();
    expect(await openWs(port, '/ws/vnc?job=j1', { Cookie: cookie })).toMatchObject({ status: 403 });
    expect(await openWs(port, '/ws/vnc?job=j1', { Cookie: cookie, Origin: 'http://evil.example' })).toMatchObject({ status: 403 });
    expect(await openWs(port, '/ws/vnc?job=j1', { Origin: origin })).toMatchObject({ status: 401 });
    expect(await openWs(port, '/ws/vnc?job=j1', { Origin: origin, Cookie: 'xepa_session=forged' })).toMatchObject({ status: 401 });
    expect(await openWs(port, '/ws/shell?job=j1', { Origin: origin, Cookie: cookie })).toMatchObject({ status: 404 });
    expect(fake.opened).toEqual([]); // nothing reached the agent
  });

  it('proxies VNC both ways with a vnc token for control sessions and vnc:view for view-only ones', async () => {
    const { port, origin, login, fake } = await setup();
    const { ws, received } = await openWs(port, '/ws/vnc?job=j1', { Origin: origin, Cookie: await login('control') });
    await expect.poll(() => received.map(String)).toEqual(['RFB 003.008\n']);
    ws!.send(Buffer.from('RFB 003.008\n'));
    await expect.poll(() => fake.opened[0]?.received.length).toBe(1);
    expect(fake.opened[0]).toMatchObject({ path: '/v1/vnc?job=j1', scope: 'vnc', subprotocols: ['binary'] });
    expect(ws!.protocol).toBe('binary');

    const view = await openWs(port, '/ws/vnc?job=j1', { Origin: origin, Cookie: await login('view') });
    await expect.poll(() => view.received.length).toBe(1);
    expect(fake.opened[1]).toMatchObject({ scope: 'vnc:view' });
  });

  it('proxies serial read-only and closes a session\'s streams at logout', async () => {
    const { port, origin, login, fake } = await setup();
    const cookie = await login('control');
    const { ws, received } = await openWs(port, '/ws/serial/1?job=j1', { Origin: origin, Cookie: cookie });
    await expect.poll(() => received.length).toBe(1);
    expect(fake.opened[0]).toMatchObject({ path: '/v1/serial/1?job=j1', scope: 'serial' });
    ws!.send('typed into a log');
    const gone = closed(ws!);
    await httpRequest(port, 'POST', '/logout', { headers: { Cookie: cookie, Origin: origin } });
    expect(await gone).toBe(1008);
    expect(fake.opened[0]!.received).toEqual([]);
  });
});

describe('web console API', () => {
  it('streams job events as server-sent events, resuming after the last seq seen', async () => {
    const events = [ev(1, 'planned', 'created'), ev(2, 'running', 'installer running'), ev(3, 'done', 'finished')];
    const { port, login } = await setup({ events });
    const cookie = await login('view');
    const all = await httpRequest(port, 'GET', '/api/events?job=j1', { headers: { Cookie: cookie } });
    expect(all.headers['content-type']).toMatch(/^text\/event-stream/);
    expect([...all.body.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect(all.body).toMatch(/event: end\n/);
    const resumed = await httpRequest(port, 'GET', '/api/events?job=j1', { headers: { Cookie: cookie, 'Last-Event-ID': '2' } });
    expect([...resumed.body.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['3']);
  });

  it('runs power and media buttons as allow-listed QMP commands for control sessions only', async () => {
    const qmpCalls: unknown[] = [];
    const { port, origin, login } = await setup({ qmpCalls });
    const json = (cookie: string, body: unknown, o: Record<string, string> = { Origin: origin }) =>
      ({ headers: { Cookie: cookie, 'Content-Type': 'application/json', ...o }, body: JSON.stringify(body) });
    const control = await login('control');
    expect((await httpRequest(port, 'POST', '/api/power', json(control, { job: 'j1', action: 'reset' }))).status).toBe(200);
    expect((await httpRequest(port, 'POST', '/api/media', json(control, { job: 'j1', action: 'change', filename: '/srv/other.iso' }))).status).toBe(200);
    expect(qmpCalls).toEqual([
      { job: 'j1', execute: 'system_reset', args: undefined },
      { job: 'j1', execute: 'blockdev-change-medium', args: { id: 'cdrom0', filename: '/srv/other.iso', format: 'raw' } },
    ]);
    const view = await login('view');
    expect((await httpRequest(port, 'POST', '/api/power', json(view, { job: 'j1', action: 'powerdown' }))).status).toBe(403);
    expect((await httpRequest(port, 'POST', '/api/power', json(control, { job: 'j1', action: 'powerdown' }, { Origin: 'http://evil.example' }))).status).toBe(403);
    expect((await httpRequest(port, 'POST', '/api/power', json(control, { job: 'j1', action: 'quit' }))).status).toBe(400);
    expect((await httpRequest(port, 'POST', '/api/power', { headers: { Cookie: control, Origin: origin, 'Content-Type': 'text/plain' }, body: '{"job":"j1","action":"reset"}' })).status).toBe(400);
    expect(qmpCalls).toHaveLength(2);
  });
});
