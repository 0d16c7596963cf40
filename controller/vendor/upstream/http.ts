// HTTP for the updater: small documents (release lists, checksum files) as text, with a size cap and a timeout.
// `fetch` is injected (tests pass the real one against loopback servers; nothing here reaches the internet by itself).
import { XepaError } from '../../../agent/protocol/index.js';

// The fetch function the updater uses (the global fetch by default).
export type FetchFn = typeof globalThis.fetch;

// Options of one text request.
export interface TextRequest {
  fetch?: FetchFn;
  headers?: Record<string, string>;
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX = 8 << 20;

// A signal that fires on the caller's abort or after `ms`.
export function timeoutSignal(ms: number, outer?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return outer ? AbortSignal.any([outer, t]) : t;
}

// Turns a fetch failure into a XepaError naming the URL.
export function fetchFailure(url: string, err: unknown, signal?: AbortSignal): XepaError {
  if (err instanceof XepaError) return err;
  const e = err as Error & { cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || (signal?.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError')) {
    return new XepaError('ERR_FETCH_TIMEOUT', `${url}: no answer in time`, { cause: err });
  }
  if (e?.name === 'AbortError') return new XepaError('ERR_CANCELLED', `${url}: cancelled`, { cause: err });
  return new XepaError('ERR_CONNECT', `${url}: ${e?.cause?.code ?? e?.message ?? String(err)}`, { cause: err });
}

// GETs `url` and returns its body as text; non-2xx is ERR_FETCH_HTTP, a body over maxBytes ERR_FETCH_SIZE.
export async function fetchText(url: string, o: TextRequest = {}): Promise<string> {
  return (await fetchBytes(url, o)).toString('utf8');
}

// GETs `url` and returns its body as received (signed documents and files checked by digest); rules as fetchText.
export async function fetchBytes(url: string, o: TextRequest = {}): Promise<Buffer> {
  const fetch = o.fetch ?? globalThis.fetch;
  const max = o.maxBytes ?? DEFAULT_MAX;
  const signal = timeoutSignal(o.timeoutMs ?? 30_000, o.signal);
  try {
    const res = await fetch(url, { headers: { 'user-agent': 'xepa-vendor-updater', ...o.headers }, signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel();
      throw new XepaError('ERR_FETCH_HTTP', `${url}: HTTP ${res.status}`, { details: { url, status: res.status } });
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > max) {
      await res.body?.cancel();
      throw new XepaError('ERR_FETCH_SIZE', `${url}: ${declared} bytes is more than the ${max} a release document may have`);
    }
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of res.body ?? []) {
      n += (chunk as Uint8Array).length;
      if (n > max) throw new XepaError('ERR_FETCH_SIZE', `${url}: more than the ${max} bytes a release document may have`);
      chunks.push(chunk as Uint8Array);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    throw fetchFailure(url, err, signal);
  }
}
