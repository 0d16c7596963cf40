import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { XepaError, redactUrl } from '../protocol/index.js';
import type { AttemptControl } from './attempt-control.js';
import { checkLiteralHost, guardedLookup } from './address-guard.js';
import { connectError } from './fetch-errors.js';

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
