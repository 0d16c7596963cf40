const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

// Interfaces carrying an IPv4 default route: /proc/net/route lines with destination and mask 00000000.
export function parseIpv4DefaultRoutes(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, , flags, , , , mask] = line.trim().split(/\s+/);
    if (!iface || dest !== '00000000' || (mask !== undefined && mask !== '00000000')) continue;
    if ((parseInt(flags ?? '0', 16) & RTF_UP) !== 0) out.add(iface);
  }
  return out;
}

// Interfaces carrying an IPv6 default route (::/0 in /proc/net/ipv6_route), ignoring reject routes on lo.
export function parseIpv6DefaultRoutes(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, prefix, , , , , , , flagsHex, iface] = f;
    if (!iface || iface === 'lo' || !/^0{32}$/.test(dest ?? '') || prefix !== '00') continue;
    const flags = parseInt(flagsHex ?? '0', 16);
    if ((flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0) out.add(iface);
  }
  return out;
}
