import { createHash } from 'node:crypto';
import { acceptRa, header, type NetworkFiles, type WriterInput } from './types.js';

export const NM_FILE = 'etc/NetworkManager/system-connections/xepa-metal.nmconnection';

// NetworkManager: a keyfile bound to the NIC's MAC, preferred over the others (autoconnect-priority), 0600 (NM
// ignores keyfiles others can read). NM writes resolv.conf itself. Pure.
export function networkManagerFiles(i: WriterInput): NetworkFiles {
  return { files: [{ path: NM_FILE, content: nmKeyfile(i), mode: 0o600, why: `NetworkManager: the NIC ${i.net.mac} by MAC` }], notes: [] };
}

// The keyfile text. Pure.
export function nmKeyfile(i: WriterInput): string {
  const uuid = uuidOf(`${i.job}/${i.net.mac}`);
  const v4: string[] = [];
  const v6: string[] = [];
  if (i.mode === 'dhcp') {
    v4.push('method=auto');
    v6.push('method=auto');
  } else {
    v4.push(i.net.ipv4.length ? 'method=manual' : 'method=disabled');
    i.net.ipv4.forEach((a, n) => v4.push(`address${n + 1}=${a.address}/${a.prefix}`));
    const gw = i.net.gateway4;
    // An on-link gateway outside the subnet: a host route to it first, then the default route through it.
    if (gw?.onLink) v4.push(`route1=${gw.address}/32`, `route2=0.0.0.0/0,${gw.address}`);
    else if (gw) v4.push(`gateway=${gw.address}`);
    if (i.net.dns.length) v4.push(`dns=${i.net.dns.filter((d) => !d.includes(':')).join(';')};`);
    if (i.net.search.length) v4.push(`dns-search=${i.net.search.join(';')};`);
    const s6 = i.net.ipv6.filter((a) => !a.dynamic);
    v6.push(s6.length ? 'method=manual' : acceptRa(i) ? 'method=auto' : 'method=ignore');
    s6.forEach((a, n) => v6.push(`address${n + 1}=${a.address}/${a.prefix}`));
    if (i.net.gateway6 && s6.length) v6.push(`gateway=${i.net.gateway6}`);
    const dns6 = i.net.dns.filter((d) => d.includes(':'));
    if (dns6.length) v6.push(`dns=${dns6.join(';')};`);
  }
  return `${header(i)}
[connection]
id=xepa-metal
uuid=${uuid}
type=ethernet
autoconnect=true
autoconnect-priority=100

[ethernet]
mac-address=${i.net.mac.toUpperCase()}

[ipv4]
${v4.join('\n')}

[ipv6]
${v6.join('\n')}
`;
}

// A stable RFC 4122 version-5-shaped UUID from a name (the same job and MAC give the same connection).
function uuidOf(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
