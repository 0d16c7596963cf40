import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../../agent/protocol/index.js';
import { LoginExchange, mintLoginToken, verifyLoginToken } from '../../../controller/web/index.js';

const key = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const ORIGIN = 'http://127.0.0.1:8080';
const T0 = 1_700_000_000_000;

describe('login tokens', () => {
  it('carry the role for the origin they were made for', () => {
    const t = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'view', now: T0 });
    expect(verifyLoginToken(t, { publicKey: key.publicKey, origin: ORIGIN, now: T0 })).toMatchObject({ role: 'view', aud: ORIGIN });
  });

  it('are refused for another console, after expiry, with another key or when tampered with', () => {
    const t = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control', ttlSeconds: 60, now: T0 });
    const check = (token: string, o: { origin?: string; now?: number; publicKey?: typeof key.publicKey } = {}) =>
      () => verifyLoginToken(token, { publicKey: o.publicKey ?? key.publicKey, origin: o.origin ?? ORIGIN, now: o.now ?? T0 });
    expect(check(t, { origin: 'http://127.0.0.1:9090' })).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    expect(check(t, { now: T0 + 61_000 })).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/expired/) }));
    expect(check(t, { publicKey: other.publicKey })).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    const [body, sig] = t.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(body, 'base64url').toString().replace('"control"', '"view"')).toString('base64url');
    expect(check(`${forged}.${sig}`)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/signature/) }));
    expect(check('not-a-token')).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
  });

  it('cannot stand in for agent tokens, nor agent tokens for them', () => {
    const login = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control' });
    expect(() => verifyToken(login, { keys: [key.publicKey], audience: ORIGIN, scope: 'vnc' })).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    const agentToken = signToken(key.privateKey, { aud: ORIGIN, scope: ['vnc'], ttlSeconds: 60 });
    expect(() => verifyLoginToken(agentToken, { publicKey: key.publicKey, origin: ORIGIN })).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
  });
});

describe('the login exchange', () => {
  it('accepts a link once: checking shows it without using it up, the exchange uses it up', () => {
    let now = T0;
    const ex = new LoginExchange({ publicKey: key.publicKey, origin: ORIGIN, now: () => now });
    const t = mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'control', now: T0 });
    expect(ex.check(t).role).toBe('control');
    expect(ex.check(t).role).toBe('control');
    expect(ex.consume(t).role).toBe('control');
    expect(() => ex.consume(t)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/already used/) }));
    expect(() => ex.check(t)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
    now += 10 * 60_000; // long after expiry the id is forgotten, and the expiry check refuses the link instead
    expect(() => ex.consume(t)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED', message: expect.stringMatching(/expired/) }));
  });

  it('refuses new logins rather than forget a used link when its memory is full', () => {
    const ex = new LoginExchange({ publicKey: key.publicKey, origin: ORIGIN, now: () => T0, maxRemembered: 2 });
    const mint = () => mintLoginToken(key.privateKey, { origin: ORIGIN, role: 'view', now: T0 });
    ex.consume(mint());
    ex.consume(mint());
    expect(() => ex.consume(mint())).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }));
  });
});
