import { isIPv4, isIPv6 } from 'node:net';

// What one "source" is for the per-source admission limits: an IPv4 address, or an IPv6 /64 (one host is routinely
// given a whole /64, so counting IPv6 addresses one by one would let a single host take every slot).
// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack listener reports) counts as the IPv4 address.

/** The admission source of a peer address; `unknown` when the socket no longer knows its peer. */
export function sourceKeyOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const zoneless = address.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(zoneless);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(zoneless)) return zoneless;
  if (!isIPv6(zoneless)) return zoneless;
  return `${expandIPv6(zoneless).slice(0, 4).join(':')}::/64`;
}

// The eight 16-bit groups of an IPv6 address, without leading zeros (`::` expanded; an embedded IPv4 tail converted).
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((g) => parseInt(g, 16).toString(16));
}
