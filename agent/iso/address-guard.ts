import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { XepaError } from '../protocol/index.js';

// Why an address is refused as an ISO source, or undefined when it may be fetched from. Loopback and link-local
// reach the rescue host itself (its agent, local daemons) and the provider's metadata service (169.254.169.254);
// the unspecified address connects to loopback on Linux. IPv4-mapped IPv6 addresses are judged as IPv4.
export function localAddressRule(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return v4Rule(address);
  if (family !== 6) return undefined;
  const h = hextets(address);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) {
    return v4Rule(`${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`);
  }
  if (h.slice(0, 7).every((x) => x === 0) && h[7] === 1) return 'loopback (::1)';
  if (h.every((x) => x === 0)) return 'unspecified (::)';
  if ((h[0]! & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  return undefined;
}

function v4Rule(address: string): string | undefined {
  const [a, b] = address.split('.').map(Number);
  if (a === 127) return 'loopback (127.0.0.0/8)';
  if (a === 169 && b === 254) return 'link-local (169.254.0.0/16)';
  if (a === 0) return 'unspecified (0.0.0.0/8)';
  return undefined;
}

// The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted).
function hextets(address: string): number[] {
  let a = address.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [o1, o2, o3, o4] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((o1 << 8) | o2).toString(16)}:${((o3 << 8) | o4).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((x) => parseInt(x, 16));
}

// The refusal for one address, naming the rule and the way to allow it.
export function localAddressError(host: string, address: string, rule: string): XepaError {
  const via = host === address ? '' : ` (${host} resolves to ${address})`;
  return new XepaError(
    'ERR_BAD_REQUEST',
    `ISO URLs to ${rule} addresses are refused: ${address}${via}; an operator may allow them with the agent option allowLocalIsoUrls`,
    { details: { host, address, rule } },
  );
}

// Refuses a URL whose host is a literal local address (names are checked when they resolve: guardedLookup).
export function checkLiteralHost(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const rule = isIP(host) ? localAddressRule(host) : undefined;
  if (rule) throw localAddressError(host, host, rule);
}

type Resolve = (hostname: string, options: LookupOptions & { all: true }, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

// A `lookup` for http(s).request: resolves the name once and hands the socket only addresses outside the local
// ranges, so the check holds for the address actually connected to (a DNS answer that changes between a check
// and the connect — rebinding — cannot slip through). A name with only local addresses fails the connect.
export function guardedLookup(resolve: Resolve = dnsLookup as unknown as Resolve): LookupFunction {
  return ((hostname: string, options: LookupOptions, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '', 0);
      const allowed = addresses.filter((a) => localAddressRule(a.address) === undefined);
      if (allowed.length === 0) {
        const first = addresses[0];
        if (!first) return cb(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        return cb(localAddressError(hostname, first.address, localAddressRule(first.address)!), '', 0);
      }
      if (options.all) return cb(null, allowed);
      return cb(null, allowed[0]!.address, allowed[0]!.family);
    });
  }) as LookupFunction;
}
