import { describe, expect, it } from 'vitest';
import { decideResponse, parseContentRange, retryAfterMs, type ResponseFacts } from '../../../agent/iso/attempt.js';

const URL_ = 'http://mirror.test/os.iso';
const facts = (over: Partial<ResponseFacts>): ResponseFacts => ({
  status: 200,
  headers: {},
  url: URL_,
  offset: 0,
  state: { url: URL_ },
  ...over,
});

describe('decideResponse', () => {
  it('writes a fresh 200 from byte 0 with the Content-Length as total', () => {
    expect(decideResponse(facts({ headers: { 'content-length': '1000' } }))).toEqual({ action: 'write', from: 0, total: 1000 });
  });

  it('fails with ERR_FETCH_SIZE when Content-Length contradicts the expected size, before writing', () => {
    const d = decideResponse(facts({ headers: { 'content-length': '999' }, expectedSize: 1000 }));
    expect(d).toMatchObject({ action: 'fail', code: 'ERR_FETCH_SIZE' });
  });

  it('treats a 200 answer to a Range request as "start over" and says the server ignored the range', () => {
    const d = decideResponse(facts({ headers: { 'content-length': '1000', etag: '"a"' }, offset: 400, state: { url: URL_, etag: '"a"' } }));
    expect(d).toEqual({ action: 'write', from: 0, total: 1000, restartReason: 'the server ignored the Range request' });
  });

  it('names a changed validator as the reason when a 200 carries a different ETag', () => {
    const d = decideResponse(facts({ headers: { etag: '"b"' }, offset: 400, state: { url: URL_, etag: '"a"' } }));
    expect(d).toMatchObject({ action: 'write', from: 0, restartReason: 'the file changed on the server (validator differs)' });
  });

  it('resumes a 206 whose Content-Range starts at the offset, taking the total from it', () => {
    const d = decideResponse(
      facts({ status: 206, headers: { 'content-range': 'bytes 400-999/1000', etag: '"a"' }, offset: 400, state: { url: URL_, etag: '"a"', total: 1000 } }),
    );
    expect(d).toEqual({ action: 'write', from: 400, total: 1000 });
  });

  it('fails with ERR_FETCH_HTTP on a 206 starting at another byte than requested', () => {
    const d = decideResponse(facts({ status: 206, headers: { 'content-range': 'bytes 0-999/1000' }, offset: 400 }));
    expect(d).toMatchObject({ action: 'fail', code: 'ERR_FETCH_HTTP' });
    expect((d as { message: string }).message).toMatch(/starting at byte 0, requested 400/);
  });

  it('fails with ERR_FETCH_HTTP on a 206 with a malformed Content-Range or to a request without Range', () => {
    expect(decideResponse(facts({ status: 206, headers: { 'content-range': 'items 1-2' }, offset: 1 }))).toMatchObject({ code: 'ERR_FETCH_HTTP' });
    expect(decideResponse(facts({ status: 206, headers: { 'content-range': 'bytes 0-9/10' }, offset: 0 }))).toMatchObject({ code: 'ERR_FETCH_HTTP' });
  });

  it('starts over when a 206 carries a different validator (server ignoring If-Range)', () => {
    const d = decideResponse(
      facts({ status: 206, headers: { 'content-range': 'bytes 400-999/1000', etag: '"b"' }, offset: 400, state: { url: URL_, etag: '"a"' } }),
    );
    expect(d).toMatchObject({ action: 'restart' });
  });

  it('starts over when a 206 announces a different total size than the part came from', () => {
    const d = decideResponse(facts({ status: 206, headers: { 'content-range': 'bytes 400-1999/2000' }, offset: 400, state: { url: URL_, total: 1000 } }));
    expect(d).toMatchObject({ action: 'restart', reason: expect.stringMatching(/1000 -> 2000/) });
  });

  it('compares Last-Modified when there is no ETag', () => {
    const d = decideResponse(
      facts({ status: 206, headers: { 'content-range': 'bytes 1-9/10', 'last-modified': 'Tue, 02 Jan 2024 00:00:00 GMT' }, offset: 1, state: { url: URL_, lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' } }),
    );
    expect(d).toMatchObject({ action: 'restart' });
  });

  it('finishes on 416 when the part already holds the whole file, else starts over', () => {
    expect(decideResponse(facts({ status: 416, headers: { 'content-range': 'bytes */1000' }, offset: 1000 }))).toEqual({ action: 'complete' });
    expect(decideResponse(facts({ status: 416, headers: { 'content-range': 'bytes */800' }, offset: 1000 }))).toMatchObject({ action: 'restart' });
    // The part came from a response announcing another size: those bytes are not trusted to be the file.
    const lied = facts({ status: 416, headers: { 'content-range': 'bytes */1000' }, offset: 1000, state: { url: URL_, total: 2000 } });
    expect(decideResponse(lied)).toMatchObject({ action: 'restart' });
  });

  it('retries 408, 429 and 5xx, honouring Retry-After', () => {
    expect(decideResponse(facts({ status: 503, headers: { 'retry-after': '2' } }))).toEqual({ action: 'retry', status: 503, retryAfterMs: 2000 });
    expect(decideResponse(facts({ status: 408 }))).toEqual({ action: 'retry', status: 408 });
    expect(decideResponse(facts({ status: 429 }))).toMatchObject({ action: 'retry' });
  });

  it('fails at once with ERR_FETCH_HTTP naming the status and URL on other 4xx', () => {
    const d = decideResponse(facts({ status: 404 }));
    expect(d).toEqual({ action: 'fail', code: 'ERR_FETCH_HTTP', message: `GET ${URL_} failed: HTTP 404` });
    expect(decideResponse(facts({ status: 416 }))).toMatchObject({ action: 'fail', code: 'ERR_FETCH_HTTP' });
  });
});

describe('parseContentRange', () => {
  it('parses known and unknown totals and rejects garbage', () => {
    expect(parseContentRange('bytes 5-9/10')).toEqual({ start: 5, end: 9, total: 10 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, end: 9 });
    expect(parseContentRange('bytes 9-5/10')).toBeUndefined();
    expect(parseContentRange(undefined)).toBeUndefined();
  });
});

describe('retryAfterMs', () => {
  it('reads seconds or an HTTP date and caps at one minute', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('3600')).toBe(60_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5_000)).toBe(5_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
