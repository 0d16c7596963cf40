import { acceptRa, header, resolvConfFile, staticAddresses, type NetworkFiles, type WriterInput } from './types.js';

// The file name sorts before the installers' (10-netplan-*, 20-wired.network ...): networkd applies the first
// .network file that matches a link.
export const NETWORKD_FILE = 'etc/systemd/network/05-xepa-metal.network';

// systemd-networkd: one .network file matching the NIC by MAC, with the on-link gateway route. Pure.
export function networkdFiles(i: WriterInput): NetworkFiles {
  const notes: string[] = [];
  return { files: [{ path: NETWORKD_FILE, content: networkdUnit(i), mode: 0o644, why: `systemd-networkd: the NIC ${i.net.mac} by MAC` }, ...(i.resolved ? [] : resolvConfFile(i, notes))], notes };
}

// The text of the .network file. Pure.
export function networkdUnit(i: WriterInput): string {
  const net: string[] = [];
  const routes: string[] = [];
  if (i.mode === 'dhcp') net.push('DHCP=yes');
  else {
    for (const a of staticAddresses(i)) net.push(`Address=${a}`);
    for (const d of i.net.dns) net.push(`DNS=${d}`);
    if (i.net.search.length) net.push(`Domains=${i.net.search.join(' ')}`);
    if (i.net.gateway4) routes.push('', '[Route]', `Gateway=${i.net.gateway4.address}`, ...(i.net.gateway4.onLink ? ['GatewayOnLink=yes'] : []));
    if (i.net.gateway6) routes.push('', '[Route]', `Gateway=${i.net.gateway6}`, 'GatewayOnLink=yes');
  }
  net.push(`IPv6AcceptRA=${acceptRa(i) ? 'yes' : 'no'}`);
  return `${header(i)}\n[Match]\nMACAddress=${i.net.mac}\nType=ether\n\n[Network]\n${net.join('\n')}\n${routes.length ? `${routes.join('\n')}\n` : ''}`;
}
