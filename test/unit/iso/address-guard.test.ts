import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkLiteralHost, guardedLookup, localAddressRule } from '../../../agent/iso/address-guard.js';
import { XepaError } from '../../../agent/protocol/index.js';

describe('localAddressRule', () => {
  it('names loopback, link-local and unspecified addresses of both families, IPv4-mapped included', () => {
    const refused: [string, RegExp][] = [
      ['127.0.0.1', /loopback/], ['127.255.0.9', /loopback/], ['::1', /loopback/], ['0:0:0:0:0:0:0:1', /loopback/],
      ['169.254.169.254', /link-local/], ['fe80::1', /link-local/], ['febf:ffff::1', /link-local/], ['fe80::1%eth0', /link-local/],
      ['0.0.0.0', /unspecified/], ['::', /unspecified/],
      ['::ffff:127.0.0.1', /loopback/], ['::ffff:7f00:1', /loopback/], ['::ffff:a9fe:a9fe', /link-local/],
    ];
    for (const [a, rule] of refused) expect(localAddressRule(a), a).toMatch(rule);
  });

  it('lets public and private addresses through (only the rescue host itself and link-local are refused)', () => {
    for (const a of ['192.0.2.10', '10.0.0.1', '172.16.0.1', '126.255.255.255', '128.0.0.1', '169.253.0.1', '2001:db8::1', 'fec0::1', '::2', '::ffff:192.0.2.1']) {
      expect(localAddressRule(a), a).toBeUndefined();
    }
  });
});

describe('checkLiteralHost', () => {
  it('refuses a URL to a literal local address with ERR_BAD_REQUEST naming the rule and the option', () => {
    for (const u of ['http://127.0.0.1:8080/a.iso', 'http://[::1]/a.iso', 'http://169.254.169.254/latest', 'http://[::ffff:127.0.0.1]/a', 'http://2130706433/a.iso', 'http://0x7f.1/a.iso']) {
      let err: unknown;
      try {
        checkLiteralHost(new URL(u));
      } catch (e) {
        err = e;
      }
      expect((err as XepaError).code, u).toBe('ERR_BAD_REQUEST');
      expect((err as XepaError).message).toMatch(/(loopback|link-local).*allowLocalIsoUrls/);
    }
    expect(() => checkLiteralHost(new URL('https://mirror.example/a.iso'))).not.toThrow();
  });
});

// A resolver that answers from a table, as dns.lookup with { all: true } does.
const table = (answers: Record<string, string[]>) => (host: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
  cb(null, (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

const lookupOnce = (fn: ReturnType<typeof guardedLookup>, host: string, all: boolean): Promise<{ err: Error | null; address: unknown }> =>
  new Promise((resolve) => (fn as unknown as (h: string, o: object, cb: (e: Error | null, a: unknown) => void) => void)(host, { all }, (err, address) => resolve({ err, address })));

describe('guardedLookup', () => {
  it('fails a name that resolves only to local addresses, with the name, the address and the rule', async () => {
    const fn = guardedLookup(table({ 'iso.internal': ['127.0.0.1', '::1'] }));
    for (const all of [false, true]) {
      const { err } = await lookupOnce(fn, 'iso.internal', all);
      expect((err as XepaError).code).toBe('ERR_BAD_REQUEST');
      expect(err!.message).toContain('iso.internal resolves to 127.0.0.1');
    }
  });

  it('hands the socket only the non-local addresses of a mixed answer', async () => {
    const fn = guardedLookup(table({ mixed: ['127.0.0.1', '192.0.2.7', 'fe80::2', '2001:db8::7'] }));
    expect((await lookupOnce(fn, 'mixed', true)).address).toEqual([{ address: '192.0.2.7', family: 4 }, { address: '2001:db8::7', family: 6 }]);
    expect((await lookupOnce(fn, 'mixed', false)).address).toBe('192.0.2.7');
  });

  it('judges each resolution on its own: a name rebound to loopback after a public answer is refused at that connect', async () => {
    const answers = [['192.0.2.7'], ['127.0.0.1']];
    const fn = guardedLookup((_h, _o, cb) => cb(null, answers.shift()!.map((address) => ({ address, family: 4 }))));
    expect((await lookupOnce(fn, 'rebind.test', false)).address).toBe('192.0.2.7');
    expect(((await lookupOnce(fn, 'rebind.test', false)).err as XepaError).code).toBe('ERR_BAD_REQUEST');
  });

  it('resolves "localhost" with the system resolver and refuses it', async () => {
    const { err } = await lookupOnce(guardedLookup(), 'localhost', true);
    expect((err as XepaError).code).toBe('ERR_BAD_REQUEST');
    expect(err!.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/);
  });
});
