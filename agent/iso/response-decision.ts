import type { IncomingHttpHeaders } from 'node:http';
import { type ErrorCode, redactUrl } from '../protocol/index.js';
import { type PartState, validatorChanged } from './part-state.js';

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
