import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConsoleOrigin, SessionStore, readCookie, sessionCookie, sessionCookieName } from '../../../controller/web/index.js';

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('sessions', () => {
  it('are opaque 256-bit random ids that expire on the server', () => {
    let now = 1000;
    const ended: string[] = [];
    const store = new SessionStore({ now: () => now, ttlMs: 60_000, onEnd: (s) => ended.push(s.id) });
    const s = store.create('control');
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.create('control').id).not.toBe(s.id);
    expect(store.get(s.id)?.role).toBe('control');
    now += 60_000;
    expect(store.get(s.id)).toBeUndefined();
    expect(ended).toEqual([s.id]);
  });

  it('end at logout and refuse ids that are unknown or malformed', () => {
    const store = new SessionStore();
    const s = store.create('view');
    store.revoke(s.id);
    expect(store.get(s.id)).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
    expect(store.get('x'.repeat(43))).toBeUndefined();
    expect(store.get('../../etc')).toBeUndefined();
  });

  it('sweep ends expired sessions so their streams can be closed', () => {
    let now = 0;
    const ended: string[] = [];
    const store = new SessionStore({ now: () => now, ttlMs: 10, onEnd: (s) => ended.push(s.role) });
    store.create('view');
    store.create('control');
    now = 10;
    store.sweep();
    expect(ended.sort()).toEqual(['control', 'view']);
    expect(store.size).toBe(0);
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/ and, over TLS, Secure with the __Host- prefix', () => {
    expect(sessionCookie('abc', { secure: false, maxAgeSeconds: 60 })).toBe('xepa_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=60');
    expect(sessionCookie('abc', { secure: true, maxAgeSeconds: 60 })).toBe('__Host-xepa_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure');
    expect(sessionCookieName(true)).toBe('__Host-xepa_session');
  });

  it('is read from the Cookie header by name', () => {
    expect(readCookie(req({ cookie: 'a=1; xepa_session=xyz; b=2' }), 'xepa_session')).toBe('xyz');
    expect(readCookie(req({ cookie: 'xepa_session_x=1' }), 'xepa_session')).toBeUndefined();
    expect(readCookie(req({}), 'xepa_session')).toBeUndefined();
  });
});

describe('the console origin', () => {
  const o = new ConsoleOrigin('http://127.0.0.1:8080/some/path');

  it('accepts only requests from the page\'s own origin', () => {
    expect(o.origin).toBe('http://127.0.0.1:8080');
    expect(() => o.checkOrigin(req({ origin: 'http://127.0.0.1:8080' }))).not.toThrow();
    for (const origin of ['http://evil.example', 'http://localhost:8080', 'https://127.0.0.1:8080', 'null']) {
      expect(() => o.checkOrigin(req({ origin }))).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN' }));
    }
    expect(() => o.checkOrigin(req({}))).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN' }));
  });

  it('refuses another Host name (DNS rebinding) and cross-site fetches', () => {
    expect(() => o.checkHost(req({ host: '127.0.0.1:8080' }))).not.toThrow();
    expect(() => o.checkHost(req({ host: 'rebind.example:8080' }))).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN' }));
    expect(() => o.checkFetchSite(req({ 'sec-fetch-site': 'cross-site' }))).toThrow(expect.objectContaining({ code: 'ERR_FORBIDDEN' }));
    expect(() => o.checkFetchSite(req({ 'sec-fetch-site': 'same-origin' }))).not.toThrow();
  });

  it('drops default ports: https://console.example:443 is https://console.example', () => {
    const t = new ConsoleOrigin('https://Console.Example:443/');
    expect(t.origin).toBe('https://console.example');
    expect(() => t.checkHost(req({ host: 'console.example' }))).not.toThrow();
  });
});
