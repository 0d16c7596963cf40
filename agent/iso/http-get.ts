import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { XepaError, redactUrl } from '../protocol/index.js';
import { checkLiteralHost, guardedLookup } from './address-guard.js';

// One GET of the ISO and how it fails: the kinds of fetch error (transient or final), the attempt's lifetime
// (idle watchdog, cancellation) and the request itself, following redirects through the address guard.

// Errors that a later attempt may not meet again (cuts, idle timeouts, 5xx): retried with backoff.
const transientErrors = new WeakSet<Error>();

// Marks a fetch error as worth retrying; returns it for `throw transient(...)`.
export function transient<E extends Error>(err: E): E {
  transientErrors.add(err);
  return err;
}

// True when the error was marked transient by the fetch code.
export function isTransient(err: unknown): boolean {
  return err instanceof Error && transientErrors.has(err);
}

// OpenSSL/Node certificate verification codes: retrying cannot make an untrusted certificate trusted.
const TLS_VERIFY = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

// A connection-level failure (refused, reset) talking to the ISO server: transient, except certificate failures.
export function connectError(url: URL | string, cause: unknown): XepaError {
  const why = cause instanceof Error ? cause.message : String(cause);
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && TLS_VERIFY.test(code)) {
    return new XepaError('ERR_CONNECT', `TLS certificate of ${redactUrl(url)} not trusted: ${why} (pass its CA in tls.ca)`, {
      cause,
      details: { tlsCode: code },
    });
  }
  return transient(new XepaError('ERR_CONNECT', `cannot download ${redactUrl(url)}: ${why}`, { cause }));
}

// No byte from the server for too long: transient; becomes final after the last retry.
export function idleTimeoutError(url: URL | string, ms: number): XepaError {
  return transient(
    new XepaError('ERR_FETCH_TIMEOUT', `no data from ${redactUrl(url)} for ${(ms / 1000).toFixed(ms < 1000 ? 2 : 0)} s`),
  );
}

// The caller's AbortSignal fired: never retried; the part file is kept for a later resume.
export function cancelledError(url: URL | string): XepaError {
  return new XepaError('ERR_CANCELLED', `download of ${redactUrl(url)} cancelled (partial file kept for resume)`);
}

// Anything an attempt may have to tear down: the request and the response stream.
interface Destroyable {
  destroy(err?: Error): unknown;
  on?(event: 'error', fn: (err: Error) => void): unknown;
}

const ignore = (): void => {};

// One HTTP attempt's lifetime: an idle watchdog (armed from the start, reset on every byte) and the caller's
// AbortSignal, both of which destroy the tracked streams with a XepaError the fetch loop then inspects.
export class AttemptControl {
  #streams = new Set<Destroyable>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reason: XepaError | undefined;
  readonly #onAbort: () => void;

  constructor(
    private readonly url: URL,
    private readonly idleMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.#onAbort = () => this.abort(cancelledError(this.url));
    if (signal?.aborted) this.#onAbort();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.touch();
  }

  // Why the attempt was stopped (idle timeout or cancellation), if it was.
  get reason(): XepaError | undefined {
    return this.#reason;
  }

  // Data arrived: re-arm the idle watchdog.
  touch(): void {
    if (this.#reason) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.abort(idleTimeoutError(this.url, this.idleMs)), this.idleMs);
  }

  // Tracks a request or response so a timeout or cancel destroys it (at once if already stopped).
  track(stream: Destroyable): void {
    // A destroyed stream nobody iterates would otherwise crash the process with an unhandled 'error'.
    stream.on?.('error', ignore);
    if (this.#reason) stream.destroy(this.#reason);
    else this.#streams.add(stream);
  }

  // Stops the attempt with this reason; the first reason wins.
  abort(reason: XepaError): void {
    if (this.#reason) return;
    this.#reason = reason;
    if (this.#timer) clearTimeout(this.#timer);
    for (const s of this.#streams) s.destroy(reason);
  }

  // Ends the attempt: timer cleared, signal listener removed, sockets released.
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.signal?.removeEventListener('abort', this.#onAbort);
    for (const s of this.#streams) s.destroy();
    this.#streams.clear();
  }
}

// The injectable HTTP(S) client: Node's `http.request` / `https.request` shape with a URL first.
export type HttpRequestFn = (url: URL, options: https.RequestOptions) => http.ClientRequest;

// Real default: http.request or https.request by the URL's scheme.
export const defaultRequest: HttpRequestFn = (url, options) =>
  url.protocol === 'https:' ? https.request(url, options) : http.request(url, options);

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// How to reach the server for one attempt.
export interface GetOptions {
  request: HttpRequestFn;
  ctl: AttemptControl;
  log: Logger;
  ca?: string | undefined;
  maxRedirects?: number;
  // Loopback, link-local and unspecified addresses are refused unless the operator allowed them (address-guard.ts).
  allowLocal?: boolean;
}

// A response whose status is not a redirect, and the URL that finally answered.
export interface OpenedResponse {
  res: http.IncomingMessage;
  url: URL;
}

// GETs `start` with `headers`, following up to 5 http(s) redirects; the body is left unread for the caller.
export async function openResponse(start: URL, headers: http.OutgoingHttpHeaders, opts: GetOptions): Promise<OpenedResponse> {
  const max = opts.maxRedirects ?? 5;
  let url = start;
  for (let hop = 0; ; hop++) {
    if (!opts.allowLocal) checkLiteralHost(url); // every hop: a redirect to 127.0.0.1 is refused like a URL to it
    const res = await sendGet(url, headers, opts);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return { res, url };
    res.destroy();
    if (hop >= max) {
      throw new XepaError('ERR_FETCH_HTTP', `too many redirects (more than ${max}) starting at ${redactUrl(start)}`, {
        details: { url: redactUrl(start) },
      });
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (cause) {
      throw new XepaError('ERR_FETCH_HTTP', `${redactUrl(url)} redirected to an invalid location`, { cause });
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new XepaError('ERR_FETCH_HTTP', `${redactUrl(url)} redirected to unsupported scheme ${next.protocol}`, {
        details: { url: redactUrl(url) },
      });
    }
    opts.log.debug({ from: redactUrl(url), to: redactUrl(next), status: res.statusCode }, 'following redirect');
    url = next;
  }
}

function sendGet(url: URL, headers: http.OutgoingHttpHeaders, opts: GetOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      // agent: false — one fresh connection per attempt; a pooled socket may be the one that was just cut.
      const options: https.RequestOptions = { method: 'GET', headers, agent: false };
      if (url.protocol === 'https:' && opts.ca !== undefined) options.ca = opts.ca;
      if (!opts.allowLocal) options.lookup = guardedLookup();
      req = opts.request(url, options);
    } catch (err) {
      reject(connectError(url, err));
      return;
    }
    // A refusal of the guarded lookup is final (not a connection fault to retry).
    req.on('error', (err) => reject(opts.ctl.reason ?? (err instanceof XepaError ? err : connectError(url, err))));
    req.on('response', (res) => {
      opts.ctl.touch();
      opts.ctl.track(res);
      resolve(res);
    });
    opts.ctl.track(req);
    req.end();
  });
}
