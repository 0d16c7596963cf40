import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsDeep, redactUrlsIn } from '../../../agent/protocol/index.js';

const SECRETS = ['alice', 's3cret', 'SIGVALUE', 'TOKENVALUE', 'frag-secret', 'bare-secret'];
const SIGNED = 'https://alice:s3cret@cdn.example:8443/path/file.iso?X-Amz-Signature=SIGVALUE&token=TOKENVALUE&bare-secret#frag-secret';

const leaks = (s: string): string[] => SECRETS.filter((x) => s.includes(x));

describe('redactUrl', () => {
  it('keeps scheme, host, port and path and masks userinfo, every query value and the fragment', () => {
    expect(redactUrl(SIGNED)).toBe('https://***@cdn.example:8443/path/file.iso?X-Amz-Signature=***&token=***&***#***');
  });

  it('masks query values whatever their name (not only names that look like credentials)', () => {
    expect(redactUrl('http://mirror.test/os.iso?v=2&Expires=1700000000&Policy=eyJ')).toBe('http://mirror.test/os.iso?v=***&Expires=***&Policy=***');
  });

  it('masks a user name without a password, and leaves a plain URL unchanged', () => {
    expect(redactUrl('https://deploy@host.test/a.iso')).toBe('https://***@host.test/a.iso');
    expect(redactUrl('https://host.test/a.iso')).toBe('https://host.test/a.iso');
    expect(redactUrl(new URL('http://[::1]:8080/x?a=b'))).toBe('http://[::1]:8080/x?a=***');
  });

  it('gives a constant for something that is not a URL (it may still hold a secret)', () => {
    expect(redactUrl('https://exa mple/?token=TOKENVALUE')).toBe('<invalid url>');
  });
});

describe('redactUrlsIn', () => {
  it('redacts every URL in a message and keeps the words and punctuation around it', () => {
    const msg = `cannot download ${SIGNED}: ECONNRESET (retried from http://u:p@other.test/b?k=v).`;
    const out = redactUrlsIn(msg);
    expect(leaks(out)).toEqual([]);
    expect(out).toBe('cannot download https://***@cdn.example:8443/path/file.iso?X-Amz-Signature=***&token=***&***#***: ECONNRESET (retried from http://***@other.test/b?k=***).');
  });

  it('masks an unparsable URL in text entirely', () => {
    expect(redactUrlsIn('got http://[bad:TOKENVALUE now')).toBe('got http://*** now');
  });
});

describe('redactUrlsDeep', () => {
  it('redacts strings at any depth of a JSON value, in errors (message, stack, cause, own fields) and URL objects', () => {
    const cause = Object.assign(new TypeError(`Invalid URL ${SIGNED}`), { input: SIGNED, code: 'ERR_INVALID_URL' });
    const err = new Error(`fetch of ${SIGNED} failed`, { cause });
    const out = redactUrlsDeep({ a: [{ b: SIGNED }], err, u: new URL(SIGNED), n: 3, t: true, z: null });
    const text = JSON.stringify(out, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack, cause: v.cause } : v));
    expect(leaks(text)).toEqual([]);
    expect(out.n).toBe(3);
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err.message).toBe('fetch of https://***@cdn.example:8443/path/file.iso?X-Amz-Signature=***&token=***&***#*** failed');
    expect((out.err.cause as Error)).toBeInstanceOf(TypeError);
    expect((out.err.cause as { code: string }).code).toBe('ERR_INVALID_URL');
    expect(out.u).toBe('https://***@cdn.example:8443/path/file.iso?X-Amz-Signature=***&token=***&***#***');
  });
});
