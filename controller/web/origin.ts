import type { IncomingMessage } from 'node:http';
import { XepaError } from '../../agent/protocol/index.js';
import { urlOf } from '../client/index.js';

// The canonical origin of a URL (`scheme://host[:port]`, default ports dropped, host lower-cased).
// Only http: and https: are origins a console can have.
export function originOf(url: string): string {
  return urlOf(url, ['http:', 'https:'], 'a console URL').origin;
}

// The one origin the console's pages are served from; everything a browser sends must come from it.
export class ConsoleOrigin {
  readonly origin: string;
  readonly host: string; // what the Host header must say

  constructor(publicUrl: string) {
    this.origin = originOf(publicUrl);
    this.host = new URL(this.origin).host;
  }

  // Refuses (ERR_FORBIDDEN) a request whose Host is not the console's: a DNS-rebinding page would reach a
  // loopback console under its own name, and its requests would not carry our cookie anyway.
  checkHost(req: IncomingMessage): void {
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== this.host) throw new XepaError('ERR_FORBIDDEN', `this console answers to ${this.host}, not ${host || '(no Host header)'}`);
  }

  // Refuses (ERR_FORBIDDEN) a WebSocket upgrade or state-changing request that does not come from the console's
  // own pages. Browsers always send Origin on those; a missing Origin is refused too (not a browser we serve).
  checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) throw new XepaError('ERR_FORBIDDEN', 'the request has no Origin header (only the console page may open this)');
    if (origin !== this.origin) throw new XepaError('ERR_FORBIDDEN', `origin ${origin} is not this console's (${this.origin})`);
  }

  // Refuses requests a browser marks as cross-site (Fetch Metadata): defence in depth beside SameSite cookies.
  checkFetchSite(req: IncomingMessage): void {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') throw new XepaError('ERR_FORBIDDEN', `refusing a ${site} request`);
  }
}
