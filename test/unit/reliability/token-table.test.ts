import { createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentServer } from '../../../agent/api/server.js';
import { AGENT_ID, controllerKeys, tokenFor, type ControllerPair } from '../api/fixtures.js';
import { openWs, rawUpgrade, startTestServer } from './support.js';

// Every way a token can be wrong, presented to the real server: each is refused with its status and code,
// before the upgrade (no WebSocket exists and the route never runs), and each refusal is counted.
const b64u = (x: string | Buffer): string => Buffer.from(x).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

let server: AgentServer;
const keys: ControllerPair = controllerKeys();
let probes = 0;

beforeAll(async () => {
  const t = await startTestServer(
    { routes: [{ path: '/v1/probe', scope: 'vnc', maxPayload: 1024, onConnection: (ws) => (probes++, ws.close()) }] },
    keys,
  );
  server = t.server;
});
afterAll(() => server.close());

// A compact JWS over arbitrary header and claims, signed with Ed25519 by `key` (the trusted one by default).
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key = keys.privateKey): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(sign(null, Buffer.from(input), key))}`;
}
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  aud: AGENT_ID, scope: ['control', 'vnc'], iat: now(), exp: now() + 60, jti: randomUUID(), ...over,
});
const EDDSA = { alg: 'EdDSA', typ: 'JWT' };
const bearer = (t: string): Record<string, string> => ({ Authorization: `Bearer ${t}` });

// The raw 32 bytes of the trusted public key: what an HS256 "alg confusion" attack would use as the HMAC secret.
const hs256WithPublicKey = (): string => {
  const raw = Buffer.from(keys.publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const input = `${b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims()))}`;
  return `${input}.${b64u(createHmac('sha256', raw).update(input).digest())}`;
};
const rs256 = (): string => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims()))}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), rsa.privateKey))}`;
};
const flipLast = (t: string): string => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.at(-1);

type Case = [what: string, path: string, headers: () => Record<string, string>, status: number, code: string];
const cases: Case[] = [
  ['no token at all', '/v1/control', () => ({}), 401, 'ERR_UNAUTHORIZED'],
  ['an empty Bearer', '/v1/control', () => ({ Authorization: 'Bearer ' }), 401, 'ERR_UNAUTHORIZED'],
  ['a Basic Authorization header', '/v1/control', () => ({ Authorization: `Basic ${b64u('a:b')}` }), 401, 'ERR_UNAUTHORIZED'],
  ['malformed base64 (standard alphabet with padding)', '/v1/control', () => bearer(`${b64u('{"alg":"EdDSA"}')}=.e30=.abc+/`), 401, 'ERR_UNAUTHORIZED'],
  ['two segments', '/v1/control', () => bearer('eyJhbGciOiJFZERTQSJ9.e30'), 401, 'ERR_UNAUTHORIZED'],
  ['four segments', '/v1/control', () => bearer(`${forge(EDDSA, claims())}.AAAA`), 401, 'ERR_UNAUTHORIZED'],
  ['a header that is not JSON', '/v1/control', () => bearer(`${b64u('not json')}.${b64u(JSON.stringify(claims()))}.AAAA`), 401, 'ERR_UNAUTHORIZED'],
  ['a flipped signature byte', '/v1/control', () => bearer(flipLast(forge(EDDSA, claims()))), 401, 'ERR_UNAUTHORIZED'],
  ['a signature by an untrusted Ed25519 key', '/v1/control', () => bearer(forge(EDDSA, claims(), generateKeyPairSync('ed25519').privateKey)), 401, 'ERR_UNAUTHORIZED'],
  ['alg none with an empty signature', '/v1/control', () => bearer(`${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify(claims()))}.`), 401, 'ERR_UNAUTHORIZED'],
  ['alg none with a valid Ed25519 signature', '/v1/control', () => bearer(forge({ alg: 'none' }, claims())), 401, 'ERR_UNAUTHORIZED'],
  ['alg HS256 keyed with the public key (alg confusion)', '/v1/control', () => bearer(hs256WithPublicKey()), 401, 'ERR_UNAUTHORIZED'],
  ['alg RS256 signed by an RSA key', '/v1/control', () => bearer(rs256()), 401, 'ERR_UNAUTHORIZED'],
  ['alg RS256 in the header over a valid Ed25519 signature', '/v1/control', () => bearer(forge({ alg: 'RS256' }, claims())), 401, 'ERR_UNAUTHORIZED'],
  ['an extra header field (kid)', '/v1/control', () => bearer(forge({ ...EDDSA, kid: '../../dev/null' }, claims())), 401, 'ERR_UNAUTHORIZED'],
  ['an extra header field (jku)', '/v1/control', () => bearer(forge({ ...EDDSA, jku: 'https://evil.example/keys' }, claims())), 401, 'ERR_UNAUTHORIZED'],
  ['a crit header', '/v1/control', () => bearer(forge({ ...EDDSA, crit: ['exp'] }, claims())), 401, 'ERR_UNAUTHORIZED'],
  ['an extra claim (strict claims)', '/v1/control', () => bearer(forge(EDDSA, claims({ admin: true }))), 401, 'ERR_UNAUTHORIZED'],
  ['an empty scope list', '/v1/control', () => bearer(forge(EDDSA, claims({ scope: [] }))), 401, 'ERR_UNAUTHORIZED'],
  ['an unknown scope', '/v1/control', () => bearer(forge(EDDSA, claims({ scope: ['root'] }))), 401, 'ERR_UNAUTHORIZED'],
  ['exp as a string', '/v1/control', () => bearer(forge(EDDSA, claims({ exp: String(now() + 60) }))), 401, 'ERR_UNAUTHORIZED'],
  ['an expired token', '/v1/control', () => bearer(forge(EDDSA, claims({ iat: now() - 600, exp: now() - 300 }))), 401, 'ERR_UNAUTHORIZED'],
  ['a token not yet valid (nbf in an hour)', '/v1/control', () => bearer(forge(EDDSA, claims({ nbf: now() + 3600, exp: now() + 7200 }))), 401, 'ERR_UNAUTHORIZED'],
  ['a token issued in the future', '/v1/control', () => bearer(forge(EDDSA, claims({ iat: now() + 3600, exp: now() + 7200 }))), 401, 'ERR_UNAUTHORIZED'],
  ['a token over 4 KiB', '/v1/control', () => bearer(forge(EDDSA, claims({ jti: 'j'.repeat(100), iss: 'i'.repeat(200) })) + 'A'.repeat(4000)), 401, 'ERR_UNAUTHORIZED'],
  ['two bearer subprotocols', '/v1/control', () => ({ 'Sec-WebSocket-Protocol': `xepa, bearer.${tokenFor(keys)}, bearer.${tokenFor(keys)}` }), 401, 'ERR_UNAUTHORIZED'],
  ['a token for another agent', '/v1/control', () => bearer(forge(EDDSA, claims({ aud: 'agent-other' }))), 403, 'ERR_FORBIDDEN'],
  ['a vnc token on the control channel', '/v1/control', () => bearer(tokenFor(keys, ['vnc'])), 403, 'ERR_FORBIDDEN'],
  ['a control token on a vnc endpoint', '/v1/probe', () => bearer(tokenFor(keys, ['control'])), 403, 'ERR_FORBIDDEN'],
  ['a token in the query string', '/v1/control?token=abc', () => bearer(tokenFor(keys)), 400, 'ERR_BAD_REQUEST'],
  ['a token under any query name', `/v1/probe?x=${tokenFor(keys, ['vnc'])}`, () => ({}), 400, 'ERR_BAD_REQUEST'],
  ['an access_token query parameter', '/v1/probe?access_token=x', () => bearer(tokenFor(keys, ['vnc'])), 400, 'ERR_BAD_REQUEST'],
];

describe('token refusals, before the upgrade', () => {
  for (const [what, path, headers, status, code] of cases) {
    it(`refuses ${what} with ${status} ${code}`, async () => {
      const before = { probes, refused: server.stats().refused[code] ?? 0 };
      const a = await rawUpgrade(server.port, path, headers());
      expect(a.code).toBe(code);
      expect(a.status).toBe(status);
      expect(a.upgraded).toBe(false);
      expect(probes).toBe(before.probes);
      expect(server.stats().refused[code]).toBe(before.refused + 1);
    });
  }

  it('accepts the well-formed token the forgeries are built like (the table is not refusing everything)', async () => {
    const a = await rawUpgrade(server.port, '/v1/control', bearer(forge(EDDSA, claims())));
    expect(a.status).toBe(101);
    expect(a.upgraded).toBe(true);
  });
});

describe('single-use console tokens', () => {
  it('accepts a console token once and refuses its replay with ERR_UNAUTHORIZED', async () => {
    const token = tokenFor(keys, ['vnc']);
    const first = await rawUpgrade(server.port, '/v1/probe', bearer(token));
    expect(first.status).toBe(101);
    const replay = await rawUpgrade(server.port, '/v1/probe', bearer(token));
    expect(replay.code).toBe('ERR_UNAUTHORIZED');
    expect(replay.message).toMatch(/already used/);
    expect(replay.upgraded).toBe(false);
  });

  it('refuses a replay even when it comes in the subprotocol instead of the header', async () => {
    const token = tokenFor(keys, ['vnc']);
    expect((await rawUpgrade(server.port, '/v1/probe', bearer(token))).status).toBe(101);
    const replay = await rawUpgrade(server.port, '/v1/probe', { 'Sec-WebSocket-Protocol': `xepa, bearer.${token}` });
    expect(replay.code).toBe('ERR_UNAUTHORIZED');
  });

  it('lets a control token open several connections within its lifetime (clients mint one per connection anyway)', async () => {
    const token = tokenFor(keys, ['control']);
    const a = await openWs(server.port, '/v1/control', token);
    const b = await openWs(server.port, '/v1/control', token);
    expect([a.readyState, b.readyState]).toEqual([1, 1]);
    a.close();
    b.close();
  });
});
