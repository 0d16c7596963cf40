// Turns a raw request target into a vendor route, or refuses it. Every segment is percent-decoded exactly once and
// must then match the strict name patterns, so `..`, `%2e%2e`, `%252e`, `%2f`, backslashes, NUL and empty segments
// can never reach the store: files are found through the index by digest, never by a path built from the URL.
import { FILE_NAME, HOST_NAME, OS_NAME, VERSION, isSafeName } from '../os/names.js';

// The mount point of Vendor Services.
export const VENDOR_PREFIX = '/vendor/v1/';

// A parsed request.
export type VendorRoute =
  | { kind: 'catalog'; os?: string }
  | { kind: 'file'; os: string; ref: string; file: string }
  | { kind: 'ipxe'; os: string; ref: string; host?: string }
  | { kind: 'config'; os: string; host: string; name: string }
  | { kind: 'bad'; status: 400 | 404; reason: string };

// The path and query of a request target (origin-form, or absolute-form from a proxy).
export function splitTarget(target: string): { path: string; query: string } {
  const noAuthority = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const q = noAuthority.indexOf('?');
  return q < 0 ? { path: noAuthority || '/', query: '' } : { path: noAuthority.slice(0, q) || '/', query: noAuthority.slice(q + 1) };
}

function decodeOnce(seg: string): string | undefined {
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

// Parses `path` (under VENDOR_PREFIX) and `query` into a route.
export function parseVendorRoute(path: string, query: string): VendorRoute {
  if (/[\\\0]/.test(path) || /%(00|2f|5c)/i.test(path)) return { kind: 'bad', status: 400, reason: 'the path holds a NUL, a backslash or an encoded slash' };
  const rest = path.slice(VENDOR_PREFIX.length);
  const raw = rest.split('/');
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop(); // one trailing slash is tolerated
  const segs: string[] = [];
  for (const r of raw) {
    const d = decodeOnce(r);
    if (d === undefined) return { kind: 'bad', status: 400, reason: 'bad percent-encoding' };
    if (d === '' || d === '.' || d === '..' || /[/\\\0]/.test(d)) return { kind: 'bad', status: 404, reason: 'no such path' };
    segs.push(d);
  }
  const [what, a, b, c, ...extra] = segs;
  const notFound: VendorRoute = { kind: 'bad', status: 404, reason: 'no such path' };
  if (extra.length > 0) return notFound;
  const os = a !== undefined && isSafeName(OS_NAME, a) ? a : undefined;
  if (what === 'catalog' && b === undefined) return a === undefined ? { kind: 'catalog' } : os ? { kind: 'catalog', os } : notFound;
  if (!os || b === undefined || !isSafeName(VERSION, b)) return notFound;
  if (what === 'files' && c !== undefined && isSafeName(FILE_NAME, c)) return { kind: 'file', os, ref: b, file: c };
  if (what === 'ipxe' && c === undefined) {
    const host = new URLSearchParams(query).get('host');
    if (host === null || host === '') return { kind: 'ipxe', os, ref: b };
    return isSafeName(HOST_NAME, host) ? { kind: 'ipxe', os, ref: b, host } : { kind: 'bad', status: 400, reason: 'host must be a host name (letters, digits, . _ -)' };
  }
  if (what === 'config' && c !== undefined && isSafeName(HOST_NAME, b) && isSafeName(FILE_NAME, c)) return { kind: 'config', os, host: b, name: c };
  return notFound;
}
