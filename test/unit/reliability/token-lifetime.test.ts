import { randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { AgentServer } from '../../../agent/api/server.js';
import { MAX_TOKEN_LIFETIME_SECONDS, verifyToken } from '../../../agent/protocol/index.js';
import { DEFAULT_TOKEN_TTL_SECONDS, mintToken } from '../../../controller/auth/index.js';
import { STREAM_TOKEN_TTL_SECONDS } from '../../../controller/console/index.js';
import { AGENT_ID, controllerKeys, tokenFor } from '../api/fixtures.js';
import { openWs, rawUpgrade, startTestServer } from './support.js';

// The agent caps a token's life itself, whatever its minter chose: a leaked or hand-made long-lived token is
// refused before the upgrade. A stream opened with a valid token is not cut when that token later expires.
const keys = controllerKeys();
const b64u = (x: string | Buffer): string => Buffer.from(x).toString('base64url');
const T0 = 1_800_000_000; // s

// A token with exactly these times, signed by the trusted key.
function tokenWith(iat: number, exp: number, scope: string[] = ['control', 'vnc']): string {
  const input = `${b64u(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }))}.${b64u(JSON.stringify({ aud: AGENT_ID, scope, iat, exp, jti: randomUUID() }))}`;
  return `${input}.${b64u(sign(null, Buffer.from(input), keys.privateKey))}`;
}
const verify = (t: string, now = T0, max?: number) => () =>
  verifyToken(t, { keys: [keys.publicKey], audience: AGENT_ID, scope: 'control', now: now * 1000, ...(max ? { maxLifetimeSeconds: max } : {}) });

describe('the verifier caps token lifetime', () => {
  it(`refuses a token living longer than ${MAX_TOKEN_LIFETIME_SECONDS} s by default, and accepts one of exactly that`, () => {
    expect(verify(tokenWith(T0, T0 + MAX_TOKEN_LIFETIME_SECONDS + 1))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/longer than this agent accepts/) }));
    expect(verify(tokenWith(T0, T0 + 24 * 3600))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    expect(verify(tokenWith(T0, T0 + MAX_TOKEN_LIFETIME_SECONDS))()).toMatchObject({ aud: AGENT_ID });
  });

  it('refuses a long-lived token also late in its life, when little of it is left', () => {
    expect(verify(tokenWith(T0 - 86_000, T0 + 400))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/86400 s/) }));
  });

  it('follows a configured cap in both directions', () => {
    expect(verify(tokenWith(T0, T0 + 120), T0, 60)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    expect(verify(tokenWith(T0, T0 + 3600), T0, 3600)()).toMatchObject({ exp: T0 + 3600 });
  });

  it('accepts every lifetime the controller mints by default (CLI control 120 s, consoles, `xepa token`)', () => {
    for (const ttlSeconds of [120, STREAM_TOKEN_TTL_SECONDS, DEFAULT_TOKEN_TTL_SECONDS]) {
      const t = mintToken(keys.privateKey, { agentId: AGENT_ID, scope: ['control'], ttlSeconds, now: () => T0 * 1000 });
      expect(verify(t)()).toMatchObject({ exp: T0 + ttlSeconds });
    }
  });
});

describe('against the real server', () => {
  let server: AgentServer;
  let capped: AgentServer;
  let clock = Date.now();
  let echoes = 0;
  const echo = { path: '/v1/echo', scope: 'vnc' as const, maxPayload: 1024, onConnection: (ws: WebSocket) => ws.on('message', (m) => (echoes++, ws.send(m))) };

  beforeAll(async () => {
    // A fast heartbeat: whatever the server does periodically runs many times while the clock is moved on.
    server = (await startTestServer({ routes: [echo], now: () => clock, pingIntervalMs: 50 }, keys)).server;
    capped = (await startTestServer({ routes: [echo], maxTokenLifetimeSeconds: 60 }, keys)).server;
  });
  afterAll(async () => {
    await server.close();
    await capped.close();
  });

  it('refuses a day-long token before the upgrade with 401 ERR_UNAUTHORIZED, and counts it', async () => {
    const s = Math.floor(clock / 1000);
    const before = server.stats().refused.ERR_UNAUTHORIZED ?? 0;
    const a = await rawUpgrade(server.port, '/v1/control', { Authorization: `Bearer ${tokenWith(s, s + 86_400)}` });
    expect(a.code).toBe('ERR_UNAUTHORIZED');
    expect(a.status).toBe(401);
    expect(a.upgraded).toBe(false);
    expect(server.stats().refused.ERR_UNAUTHORIZED).toBe(before + 1);
  });

  it('applies the configured maxTokenLifetimeSeconds', async () => {
    const long = await rawUpgrade(capped.port, '/v1/control', { Authorization: `Bearer ${tokenFor(keys, ['control'], { ttlSeconds: 120 })}` });
    expect(long.code).toBe('ERR_UNAUTHORIZED');
    const short = await rawUpgrade(capped.port, '/v1/control', { Authorization: `Bearer ${tokenFor(keys, ['control'], { ttlSeconds: 60 })}` });
    expect(short.status).toBe(101);
  });

  it('does not cut a stream that is open when its token expires; a new connection with such a token is refused', async () => {
    const issued = clock;
    const ws = await openWs(server.port, '/v1/echo', tokenFor(keys, ['vnc'], { ttlSeconds: 10, now: issued }));
    const roundTrip = (data: string): Promise<string> => new Promise((resolve) => {
      ws.once('message', (m) => resolve(String(m)));
      ws.send(data);
    });
    expect(await roundTrip('before')).toBe('before');
    clock = issued + 3600_000; // an hour on: the token is long expired, leeway included
    const pings = await new Promise<number>((resolve) => {
      let n = 0;
      ws.on('ping', () => ++n === 4 && resolve(n)); // the server's periodic work has run several times since
    });
    expect(pings).toBe(4);
    expect(ws.readyState).toBe(1);
    expect(await roundTrip('after')).toBe('after');
    const late = await rawUpgrade(server.port, '/v1/echo', { Authorization: `Bearer ${tokenFor(keys, ['vnc'], { ttlSeconds: 10, now: issued })}` });
    expect(late.code).toBe('ERR_UNAUTHORIZED');
    expect(late.message).toMatch(/expired/);
    expect(echoes).toBe(2);
    ws.close();
  });
});
