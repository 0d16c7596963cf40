import { acceptRa, header, resolvConfFile, staticAddresses, type NetworkFiles, type WriterInput } from './types.js';

export const NETPLAN_FILE = 'etc/netplan/90-xepa-metal.yaml';
// The device id: netplan renders 10-netplan-<id>.network; "00-" sorts it before the installer's ids, since
// networkd applies the first file that matches (an installer's entry may match the same MAC: the VM had it).
export const NETPLAN_ID = '00-xepa-metal';

// netplan: one ethernet matched by MAC (no set-name: the name stays the metal's), 0600 as netplan wants. Pure.
export function netplanFiles(i: WriterInput): NetworkFiles {
  const notes: string[] = [];
  const dnsHere = i.resolved || i.netplanRenderer === 'NetworkManager';
  return { files: [{ path: NETPLAN_FILE, content: netplanYaml(i), mode: 0o600, why: `netplan (${i.netplanRenderer ?? 'networkd'}): the NIC ${i.net.mac} by MAC` }, ...(dnsHere ? [] : resolvConfFile(i, notes))], notes };
}

// The YAML text. Pure.
export function netplanYaml(i: WriterInput): string {
  const q = (s: string): string => JSON.stringify(s); // a JSON string is a YAML string
  const lines = ['network:', '  version: 2', '  ethernets:', `    ${q(NETPLAN_ID)}:`, '      match:', `        macaddress: ${q(i.net.mac)}`];
  if (i.netplanRenderer === 'NetworkManager') lines.push('      renderer: NetworkManager');
  if (i.mode === 'dhcp') lines.push('      dhcp4: true', '      dhcp6: true');
  else {
    lines.push('      dhcp4: false', '      dhcp6: false');
    const addrs = staticAddresses(i);
    if (addrs.length) lines.push('      addresses:', ...addrs.map((a) => `        - ${q(a)}`));
    const routes: string[] = [];
    if (i.net.gateway4) routes.push('        - to: default', `          via: ${q(i.net.gateway4.address)}`, ...(i.net.gateway4.onLink ? ['          on-link: true'] : []));
    if (i.net.gateway6) routes.push('        - to: "::/0"', `          via: ${q(i.net.gateway6)}`, '          on-link: true');
    if (routes.length) lines.push('      routes:', ...routes);
    if (i.net.dns.length || i.net.search.length) {
      lines.push('      nameservers:');
      if (i.net.dns.length) lines.push(`        addresses: [${i.net.dns.map(q).join(', ')}]`);
      if (i.net.search.length) lines.push(`        search: [${i.net.search.map(q).join(', ')}]`);
    }
  }
  lines.push(`      accept-ra: ${acceptRa(i)}`);
  return `${header(i)}${lines.join('\n')}\n`;
}
