import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type ResponseEnvelope } from '../../../agent/protocol/index.js';
import { startAgentServer, type AgentServer } from '../../../agent/api/server.js';
import { IdempotencyCache } from '../../../agent/api/idempotency.js';
import { AGENT_ID, FakeJobs, agentServerOptions, controllerKeys, silentLog, testIdentity, tokenFor } from './fixtures.js';

const keys = controllerKeys();
const otherKeys = controllerKeys();
const jobs = new FakeJobs();
const probeConnections: string[] = [];
let server: AgentServer;
let fingerprint: string;

beforeAll(async () => {
  const id = await testIdentity();
  fingerprint = id.fingerprint;
  server = await startAgentServer({
    ...agentServerOptions(id, keys, jobs.handlers(), '1.2.3'),
    idempotency: new IdempotencyCache(),
    pingIntervalMs: 100,
    routes: [{ path: /^\/v1\/probe\/(\d)$/, scope: 'vnc', maxPayload: 1024, onConnection: (ws, c) => {
      probeConnections.push(c.match?.[1] ?? '');
      ws.close();
    } }],
  });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  body: { code?: string; message?: string } & Record<string, unknown>;
  upgraded: boolean;
}

// A raw upgrade (or plain GET) with exactly the given headers, so refusals can be observed as HTTP.
function raw(path: string, headers: Record<string, string> = {}, upgrade = true): Promise<Answer> {
  const h = upgrade
    ? { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers }
    : headers;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: h, rejectUnauthorized: false, agent: false });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: {}, upgraded: true });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}'), upgraded: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (t: string): Record<string, string> => ({ Authorization: `Bearer ${t}` });

describe('GET /v1/health', () => {
  it('answers without a token with the agent id, version, protocol and fingerprint only', async () => {
    const a = await raw('/v1/health', {}, false);
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ agentId: AGENT_ID, version: '1.2.3', protocol: 1, fingerprint });
  });
  it('answers 404 for an unknown path', async () => {
    const a = await raw('/v1/nothing', {}, false);
    expect(a.status).toBe(404);
    expect(a.body.code).toBe('ERR_NOT_FOUND');
  });
});

describe('upgrade refusals: no WebSocket ever exists', () => {
  const now = Date.now();
  const cases: [string, string, () => Record<string, string>, number, string][] = [
    ['no token', '/v1/control', () => ({}), 401, 'ERR_UNAUTHORIZED'],
    ['a malformed token', '/v1/control', () => bearer('not.a-token'), 401, 'ERR_UNAUTHORIZED'],
    ['a non-Bearer Authorization header', '/v1/control', () => ({ Authorization: `Basic ${tokenFor(keys)}` }), 401, 'ERR_UNAUTHORIZED'],
    ['a token signed by another key', '/v1/control', () => bearer(tokenFor(otherKeys)), 401, 'ERR_UNAUTHORIZED'],
    ['an expired token', '/v1/control', () => bearer(tokenFor(keys, ['control'], { now: now - 3600_000, ttlSeconds: 60 })), 401, 'ERR_UNAUTHORIZED'],
    ['a token for another agent', '/v1/control', () => bearer(tokenFor(keys, ['control'], { aud: 'agent-other' })), 403, 'ERR_FORBIDDEN'],
    ['a token without the control scope', '/v1/control', () => bearer(tokenFor(keys, ['vnc'])), 403, 'ERR_FORBIDDEN'],
    ['a control token on a vnc route', '/v1/probe/1', () => bearer(tokenFor(keys, ['control'])), 403, 'ERR_FORBIDDEN'],
    ['a token in the URL query, even with a good header', '/v1/control?token=abc', () => bearer(tokenFor(keys)), 400, 'ERR_BAD_REQUEST'],
    ['a JWT-looking value in the URL under any name', `/v1/probe/1?x=${tokenFor(keys, ['vnc'])}`, () => ({}), 400, 'ERR_BAD_REQUEST'],
    ['an unknown path, before anything else', '/v1/shellz', () => bearer(tokenFor(keys)), 404, 'ERR_NOT_FOUND'],
  ];
  for (const [what, path, headers, status, code] of cases) {
    it(`refuses ${what} with ${status} ${code}`, async () => {
      const before = probeConnections.length;
      const a = await raw(path, headers());
      expect(a.body.code).toBe(code);
      expect(a.status).toBe(status);
      expect(a.upgraded).toBe(false);
      expect(typeof a.body.message).toBe('string');
      expect(probeConnections.length).toBe(before);
    });
  }

  it('says why a token in the URL is refused', async () => {
    const a = await raw('/v1/control?access_token=x');
    expect(a.body.message).toMatch(/not accepted in the URL/);
  });

  it('never echoes the token in a refusal', async () => {
    const t = signToken(otherKeys.privateKey, { aud: AGENT_ID, scope: ['control'], ttlSeconds: 60 });
    const a = await raw('/v1/control', bearer(t));
    expect(JSON.stringify(a.body)).not.toContain(t.split('.')[2]);
  });

  it('accepts a valid token on a pattern route and passes the match to its handler', async () => {
    const a = await raw('/v1/probe/7', bearer(tokenFor(keys, ['vnc'])));
    expect(a.status).toBe(101);
    expect(a.upgraded).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(probeConnections).toContain('7');
  });
});

// Opens a control WebSocket (pinning is the client's business; these tests look at the server).
function open(headers: Record<string, string>, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/v1/control`, protocols, { rejectUnauthorized: false, headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// Sends one frame and waits for the next reply.
function roundTrip(ws: WebSocket, data: string | Buffer): Promise<ResponseEnvelope> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(JSON.parse(String(m)) as ResponseEnvelope));
    ws.send(data);
  });
}

describe('control channel over WSS', () => {
  it('accepts a browser token in Sec-WebSocket-Protocol and selects the xepa subprotocol', async () => {
    const ws = await open({}, ['xepa', `bearer.${tokenFor(keys)}`]);
    expect(ws.protocol).toBe('xepa');
    const r = await roundTrip(ws, JSON.stringify({ id: '1', key: 'k', method: 'hello', params: { protocol: 1 } }));
    expect('result' in r && r.result).toMatchObject({ agentId: AGENT_ID });
    ws.close();
  });

  it('answers bad messages with ERR_BAD_REQUEST and keeps answering on the same connection', async () => {
    const ws = await open(bearer(tokenFor(keys)));
    for (const bad of ['nope', '{"id":"x"}', '[]', Buffer.from([1, 2, 3])]) {
      const r = await roundTrip(ws, bad);
      expect('error' in r && r.error.code).toBe('ERR_BAD_REQUEST');
    }
    const unknown = await roundTrip(ws, JSON.stringify({ id: 'u', key: 'k', method: 'nope', params: {} }));
    expect('error' in unknown && unknown.error.code).toBe('ERR_UNKNOWN_METHOD');
    const ok = await roundTrip(ws, JSON.stringify({ id: '2', key: 'k', method: 'hello', params: { protocol: 1 } }));
    expect(ok).toMatchObject({ id: '2', result: { agentId: AGENT_ID } });
    ws.close();
  });

  it('closes a connection that sends a message over the size limit', async () => {
    const ws = await open(bearer(tokenFor(keys)));
    const code = await new Promise<number>((resolve) => {
      ws.once('close', resolve);
      ws.send('x'.repeat((1 << 20) + 1));
    });
    expect(code).toBe(1009);
  });

  it('runs install once for the same idempotency key sent on two connections', async () => {
    const before = jobs.installCalls;
    const params = { iso: { url: 'https://x/y.iso', sha256: 'c'.repeat(64) }, disks: [{ serial: 'S' }] };
    const a = await open(bearer(tokenFor(keys)));
    const b = await open(bearer(tokenFor(keys)));
    const msg = (id: string): string => JSON.stringify({ id, key: 'install-key-1', method: 'install', params });
    const [ra, rb] = await Promise.all([roundTrip(a, msg('a')), roundTrip(b, msg('b'))]);
    expect(jobs.installCalls - before).toBe(1);
    expect(ra).toMatchObject({ id: 'a', result: { state: 'planned' } });
    expect('result' in ra && ra.result).toEqual('result' in rb && rb.result);
    a.close();
    b.close();
  });

  it('drops a peer that does not answer pings', async () => {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const w = new WebSocket(`wss://127.0.0.1:${server.port}/v1/control`, { rejectUnauthorized: false, headers: bearer(tokenFor(keys)), autoPong: false });
      w.once('open', () => resolve(w));
      w.once('error', reject);
    });
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1006);
  });
});

describe('close', () => {
  it('ends every open socket', async () => {
    const id = await testIdentity();
    const s = await startAgentServer({ port: 0, host: '127.0.0.1', tls: id, agentId: AGENT_ID, fingerprint: id.fingerprint, trustedKeys: [keys.publicKey], handlers: new FakeJobs().handlers(), log: silentLog(), version: 'x' });
    const ws = new WebSocket(`wss://127.0.0.1:${s.port}/v1/control`, { rejectUnauthorized: false, headers: bearer(tokenFor(keys)) });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise((r) => ws.once('close', r));
    await s.close();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
