import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { type ErrorCode, XepaError, redactUrl } from '../protocol/index.js';
import { type AttemptControl, type HttpRequestFn, connectError, openResponse, transient } from './http-get.js';
import type { PartFile, PartState } from './part-file.js';

// One attempt of a fetch: the resume request (Range, If-Range), the decision on its answer before a single body
// byte is written (the resume contract of DESIGN §4), and the body streamed into the part file.

// What one attempt works on, handed down by the fetch loop (fetch.ts).
export interface AttemptTarget {
  // The ISO URL, parsed (requests, messages) and as given (what the part's sidecar recognises).
  url: URL;
  rawUrl: string;
  // The size the caller promised (req.size), if any.
  expectedSize: number | undefined;
  part: PartFile;
  log: Logger;
  http: { request: HttpRequestFn; ca: string | undefined; allowLocal: boolean };
  // The total became known: checked against the budget before any byte of it is written.
  onTotal(total: number): Promise<void>;
  // The part file grew to `bytes` (of `end`, when known).
  onBytes(bytes: number, end: number | undefined): void;
}

// One GET: decide from the status and headers, then stream the body into the part file.
export async function runAttempt(run: AttemptTarget, ctl: AttemptControl): Promise<'done' | 'again'> {
  const { part, log } = run;
  const headers: OutgoingHttpHeaders = { 'accept-encoding': 'identity', 'user-agent': 'xepa-agent' };
  if (part.bytes > 0) {
    headers.range = `bytes=${part.bytes}-`;
    const validator = ifRangeValue(part.state);
    if (validator) headers['if-range'] = validator;
  }
  const { res, url } = await openResponse(run.url, headers, { ...run.http, ctl, log });
  const status = res.statusCode ?? 0;
  const d = decideResponse({ status, headers: res.headers, url: url.toString(), offset: part.bytes, state: part.state, expectedSize: run.expectedSize });
  log.debug({ status, offset: part.bytes, action: d.action, at: redactUrl(url) }, 'response');

  switch (d.action) {
    case 'fail':
      throw new XepaError(d.code, d.message, { details: { status, url: redactUrl(url) } });
    case 'retry':
      throw transient(
        new XepaError('ERR_FETCH_HTTP', `GET ${redactUrl(url)} failed: HTTP ${status}`, {
          details: { status, url: redactUrl(url), ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}) },
        }),
      );
    case 'restart':
      log.warn({ bytes: part.bytes, reason: d.reason }, 'starting the download over');
      await part.restart({ url: run.rawUrl });
      return 'again';
    case 'complete':
      log.info({ bytes: part.bytes }, 'partial file was already complete');
      return 'done';
    case 'write':
      break;
  }

  if (d.from === 0) {
    if (part.bytes > 0) log.warn({ bytes: part.bytes, reason: d.restartReason }, 'starting the download over');
    await part.restart(stateFromResponse(run.rawUrl, res.headers, d.total));
  } else if (d.total !== undefined && part.state.total === undefined) {
    await part.setState({ ...part.state, total: d.total });
  }
  if (d.total !== undefined) await run.onTotal(d.total);
  await streamBody(run, ctl, res, d.total);
  return 'done';
}

// Copies the body into the part file, hashing as it goes; a cut before the expected end is transient.
async function streamBody(run: AttemptTarget, ctl: AttemptControl, body: AsyncIterable<Buffer>, total: number | undefined): Promise<void> {
  const { part } = run;
  const end = total ?? run.expectedSize;
  let writeError: unknown;
  try {
    for await (const chunk of body) {
      ctl.touch();
      if (end !== undefined && part.bytes + chunk.length > end) {
        await part.discard();
        throw new XepaError('ERR_FETCH_SIZE', `${redactUrl(run.url)} sent more than the ${end} bytes expected; download deleted`, {
          details: { expected: end },
        });
      }
      try {
        await part.append(chunk);
      } catch (err) {
        writeError = err;
        throw err;
      }
      run.onBytes(part.bytes, end);
    }
  } catch (err) {
    if (ctl.reason) throw ctl.reason;
    if (writeError !== undefined || err instanceof XepaError) throw err;
    throw cutError(run, end, err);
  }
  if (ctl.reason) throw ctl.reason;
  if (end !== undefined && part.bytes < end) throw cutError(run, end, undefined);
}

function cutError(run: AttemptTarget, total: number | undefined, cause: unknown): XepaError {
  if (total === undefined) return connectError(run.url, cause ?? new Error(`connection closed at byte ${run.part.bytes}`));
  return transient(
    new XepaError('ERR_FETCH_SIZE', `${redactUrl(run.url)} closed the connection at byte ${run.part.bytes} of ${total}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { bytes: run.part.bytes, total },
    }),
  );
}


// What we knew when the request went out.
export interface ResponseFacts {
  status: number;
  headers: IncomingHttpHeaders;
  url: string;
  // Bytes already in the part file; > 0 means we sent `Range: bytes=<offset>-`.
  offset: number;
  // The sidecar the part file's bytes came from.
  state: PartState;
  // The size the caller promised (req.size), if any.
  expectedSize?: number | undefined;
}

// What to do with a (non-redirect) response, decided before a single body byte is written.
export type Decision =
  | { action: 'write'; from: number; total?: number; restartReason?: string }
  | { action: 'complete' }
  | { action: 'restart'; reason: string }
  | { action: 'retry'; status: number; retryAfterMs?: number }
  | { action: 'fail'; code: ErrorCode; message: string };

// Parsed `Content-Range: bytes <start>-<end>/<total|*>`.
export interface ContentRange {
  start: number;
  end: number;
  total?: number;
}

// Parses a Content-Range header of a 206; undefined when malformed.
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return undefined;
  return m[3] === '*' ? { start, end } : { start, end, total: Number(m[3]) };
}

// The total of a 416's `Content-Range: bytes */<total>`.
function unsatisfiedTotal(value: string | undefined): number | undefined {
  const m = /^bytes\s+\*\/(\d+)$/i.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['content-length'];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

// Retry-After in ms (seconds or an HTTP date), capped at one minute.
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(secs) || secs < 0) return undefined;
  return Math.min(secs, 60_000);
}

// Classifies a response: resume, start over, finish, retry later or fail — the resume contract of DESIGN §4.
export function decideResponse(f: ResponseFacts): Decision {
  const where = redactUrl(f.url);
  const { status, headers } = f;

  if (status === 200) {
    const total = contentLength(headers);
    const bad = sizeMismatch(total, f.expectedSize, where);
    if (bad) return bad;
    const write: Decision & { action: 'write' } = total === undefined ? { action: 'write', from: 0 } : { action: 'write', from: 0, total };
    if (f.offset > 0) {
      write.restartReason = validatorChanged(f.state, headers)
        ? 'the file changed on the server (validator differs)'
        : 'the server ignored the Range request';
    }
    return write;
  }

  if (status === 206) {
    if (f.offset === 0) return fail('ERR_FETCH_HTTP', `${where} answered 206 to a request without Range`);
    const cr = parseContentRange(headers['content-range']);
    // The header's value is not echoed: fetch errors never carry what a server sent (issue 11, item 6).
    if (!cr) return fail('ERR_FETCH_HTTP', `${where} answered 206 with a malformed Content-Range`);
    if (cr.start !== f.offset) {
      return fail('ERR_FETCH_HTTP', `${where} answered 206 starting at byte ${cr.start}, requested ${f.offset}`);
    }
    if (validatorChanged(f.state, headers)) return { action: 'restart', reason: 'the file changed on the server (validator differs)' };
    if (cr.total !== undefined && f.state.total !== undefined && cr.total !== f.state.total) {
      return { action: 'restart', reason: `the file size changed on the server (${f.state.total} -> ${cr.total})` };
    }
    const total = cr.total ?? f.state.total;
    const bad = sizeMismatch(total, f.expectedSize, where);
    if (bad) return bad;
    return total === undefined ? { action: 'write', from: f.offset } : { action: 'write', from: f.offset, total };
  }

  if (status === 416 && f.offset > 0) {
    // Typically a part that was complete when the agent stopped, before the rename.
    const total = unsatisfiedTotal(headers['content-range']);
    const agrees = (n: number | undefined): boolean => n === undefined || n === total;
    if (total !== undefined && total === f.offset && agrees(f.expectedSize) && agrees(f.state.total)) {
      return { action: 'complete' };
    }
    return { action: 'restart', reason: `range not satisfiable at byte ${f.offset}` };
  }

  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    const after = retryAfterMs(headers['retry-after']);
    return after === undefined ? { action: 'retry', status } : { action: 'retry', status, retryAfterMs: after };
  }

  return fail('ERR_FETCH_HTTP', `GET ${where} failed: HTTP ${status}`);
}

function sizeMismatch(total: number | undefined, expected: number | undefined, where: string): Decision | undefined {
  if (total === undefined || expected === undefined || total === expected) return undefined;
  return fail('ERR_FETCH_SIZE', `${where} announces ${total} bytes, expected ${expected}`);
}

const fail = (code: ErrorCode, message: string): Decision => ({ action: 'fail', code, message });

// The validator and size a response announces (ETag, Last-Modified, total length).
export function stateFromResponse(url: string, headers: IncomingHttpHeaders, total: number | undefined): PartState {
  const s: PartState = { url };
  if (typeof headers.etag === 'string' && headers.etag) s.etag = headers.etag;
  if (typeof headers['last-modified'] === 'string' && headers['last-modified']) s.lastModified = headers['last-modified'];
  if (total !== undefined) s.total = total;
  return s;
}

// The If-Range value for a resume: a strong ETag, else Last-Modified (RFC 9110 §13.1.5 forbids weak ETags).
export function ifRangeValue(s: PartState): string | undefined {
  if (s.etag && !s.etag.startsWith('W/')) return s.etag;
  return s.lastModified;
}

// True when the response's validator shows a different file than the one the part came from.
export function validatorChanged(s: PartState, headers: IncomingHttpHeaders): boolean {
  const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
  if (s.etag && etag) return weak(s.etag) !== weak(etag);
  const lm = headers['last-modified'];
  if (s.lastModified && typeof lm === 'string') return s.lastModified !== lm;
  return false;
}

const weak = (etag: string): string => etag.replace(/^W\//, '');
