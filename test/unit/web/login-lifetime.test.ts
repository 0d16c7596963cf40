import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOGIN_TOKEN_MAX_LIFETIME_SECONDS, LoginExchange, mintLoginToken, verifyLoginToken } from '../../../controller/web/index.js';

// The web console caps the life of a one-time login link itself, whoever minted it.
const key = generateKeyPairSync('ed25519');
const ORIGIN = 'http://127.0.0.1:8080';
const T0 = 1_700_000_000; // s

// A login token with these claims, signed by the controller key (as a hand-made or older tool would).
function loginWith(claims: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify({ typ: 'xepa-web-login', aud: ORIGIN, role: 'control', jti: randomBytes(18).toString('base64url'), ...claims })).toString('base64url');
  return `${body}.${sign(null, Buffer.from(body), key.privateKey).toString('base64url')}`;
}
const check = (t: string, now = T0, maxLifetimeSeconds?: number) => () =>
  verifyLoginToken(t, { publicKey: key.publicKey, origin: ORIGIN, now: now * 1000, ...(maxLifetimeSeconds ? { maxLifetimeSeconds } : {}) });

describe('login link lifetime', () => {
  it(`refuses a link living longer than ${LOGIN_TOKEN_MAX_LIFETIME_SECONDS} s (the most \`xepa serve login --ttl\` mints), accepts one of exactly that`, () => {
    const long = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'view', ttlSeconds: LOGIN_TOKEN_MAX_LIFETIME_SECONDS + 1, now: T0 * 1000 });
    expect(check(long)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/longer than this console accepts/) }));
    const year = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control', ttlSeconds: 365 * 86_400, now: T0 * 1000 });
    expect(check(year)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    const max = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'view', ttlSeconds: LOGIN_TOKEN_MAX_LIFETIME_SECONDS, now: T0 * 1000 });
    expect(check(max)()).toMatchObject({ role: 'view' });
  });

  it('refuses a long-lived link late in its life, one issued in the future, and one without an issue time', () => {
    expect(check(loginWith({ iat: T0 - 86_000, exp: T0 + 400 }))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/86400 s/) }));
    expect(check(loginWith({ iat: T0 + 600, exp: T0 + 900 }))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/future/) }));
    expect(check(loginWith({ exp: T0 + 60 }))).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/malformed claims/) }));
    expect(check(loginWith({ iat: T0, exp: T0 + 60 }))()).toMatchObject({ role: 'control' }); // the hand-made shape itself is fine
  });

  it('the exchange applies its configured cap and does not remember refused links', () => {
    const ex = new LoginExchange({ publicKey: key.publicKey, origin: ORIGIN, now: () => T0 * 1000, maxLifetimeSeconds: 60, maxRemembered: 1 });
    const long = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control', ttlSeconds: 120, now: T0 * 1000 });
    expect(() => ex.consume(long)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/60 s/) }));
    const ok = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control', ttlSeconds: 60, now: T0 * 1000 });
    expect(ex.consume(ok).role).toBe('control'); // the refused one took no room in the used-id memory (maxRemembered: 1)
  });
});
