import net from 'node:net';
import type os from 'node:os';

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

// An address as Node reports a peer, without the IPv4-mapped prefix (::ffff:10.0.2.2 -> 10.0.2.2).
export function plainIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

const popcount = (n: number): number => {
  let c = 0;
  for (let x = n >>> 0; x !== 0; x >>>= 1) c += x & 1;
  return c;
};

// The interface the kernel's main IPv4 table sends `ip` through: longest prefix, then lowest metric.
// /proc/net/route holds destination and mask as host-order (little-endian) hex; AND-ing works bytewise.
export function ipv4RouteInterface(ip: string, table: string): string | undefined {
  const b = ip.split('.').map(Number);
  const addr = Buffer.from(b).readUInt32LE(0);
  let best: { iface: string; prefix: number; metric: number } | undefined;
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, destHex, , flagsHex, , , metricStr, maskHex] = f;
    const flags = parseInt(flagsHex!, 16);
    if ((flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0) continue;
    const dest = parseInt(destHex!, 16) >>> 0;
    const mask = parseInt(maskHex!, 16) >>> 0;
    if (((addr & mask) >>> 0) !== dest) continue;
    const prefix = popcount(mask);
    const metric = Number(metricStr);
    if (!best || prefix > best.prefix || (prefix === best.prefix && metric < best.metric)) best = { iface: iface!, prefix, metric };
  }
  return best?.iface;
}

// 128 bits of an IPv6 address as 32 hex digits, the way /proc/net/ipv6_route writes them.
export function ipv6Hex(ip: string): string {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

const bitsOf = (hex: string): string => [...hex].map((c) => parseInt(c, 16).toString(2).padStart(4, '0')).join('');

// The interface for `ip` in /proc/net/ipv6_route: longest prefix, then lowest metric; reject routes skipped.
export function ipv6RouteInterface(ip: string, table: string): string | undefined {
  const addr = bitsOf(ipv6Hex(ip));
  let best: { iface: string; prefix: number; metric: number } | undefined;
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const prefix = parseInt(f[1]!, 16);
    const flags = parseInt(f[8]!, 16);
    if ((flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0) continue;
    if (bitsOf(f[0]!).slice(0, prefix) !== addr.slice(0, prefix)) continue;
    const metric = parseInt(f[5]!, 16);
    if (!best || prefix > best.prefix || (prefix === best.prefix && metric < best.metric)) best = { iface: f[9]!, prefix, metric };
  }
  return best?.iface;
}

// The interface the kernel would use to reach `ip` (v4 or v6), from the main routing tables.
export function routeInterface(ip: string, v4Table: string, v6Table: string): string | undefined {
  const p = plainIp(ip);
  if (net.isIPv4(p)) return ipv4RouteInterface(p, v4Table);
  if (net.isIPv6(p)) return ipv6RouteInterface(p, v6Table);
  return undefined;
}

// The interface that holds `ip` as one of its own addresses (the local end of a connection).
export function interfaceWithAddress(ip: string, addrs: ReturnType<typeof os.networkInterfaces>): string | undefined {
  const p = plainIp(ip);
  for (const [name, list] of Object.entries(addrs)) {
    if ((list ?? []).some((a) => plainIp(a.address) === p)) return name;
  }
  return undefined;
}
