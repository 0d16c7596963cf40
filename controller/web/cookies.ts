import type { IncomingMessage } from 'node:http';

// The session cookie's name. Over TLS the `__Host-` prefix makes browsers insist on Secure, Path=/ and no Domain.
export const sessionCookieName = (secure: boolean): string => (secure ? '__Host-xepa_session' : 'xepa_session');

// The Set-Cookie value that stores a session id: HttpOnly, SameSite=Strict, Path=/, Secure over TLS.
export function sessionCookie(id: string, o: { secure: boolean; maxAgeSeconds: number }): string {
  const parts = [`${sessionCookieName(o.secure)}=${id}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`];
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

// The Set-Cookie value that deletes the session cookie (logout).
export const clearedSessionCookie = (secure: boolean): string => sessionCookie('', { secure, maxAgeSeconds: 0 });

// Reads one cookie from a request (RFC 6265 Cookie header: `a=1; b=2`); the first occurrence wins.
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
