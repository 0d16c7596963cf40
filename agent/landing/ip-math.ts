// IPv4 arithmetic the landing needs: is a gateway inside a subnet. Pure.

// The 32-bit value of a dotted quad; undefined when it is not one.
export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

// Whether `ip` lies inside address/prefix (a /32 holds only itself).
export function inSubnet4(ip: string, address: string, prefix: number): boolean {
  const a = ipv4ToNumber(ip);
  const b = ipv4ToNumber(address);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(b / size);
}
