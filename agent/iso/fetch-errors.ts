import { XepaError, redactUrl } from '../protocol/index.js';

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
