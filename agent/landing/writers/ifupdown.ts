import { acceptRa, header, resolvConfFile, type NetworkFiles, type PlannedFile, type WriterInput } from './types.js';

export const IFUPDOWN_FILE = 'etc/network/interfaces.d/xepa-metal';
export const LINK_FILE = 'etc/systemd/network/05-xepa-metal.link';

// ifupdown names interfaces, never MACs: a systemd .link file (applied by udev) gives the NIC a name by its
// MAC, and the interfaces stanza uses that name. The rescue system's own name is kept when it is a predictable
// one (en*), else "metal0" (never eth*: the kernel hands those out itself and a rename could race it).
export function pinnedName(i: WriterInput): string {
  return /^en[a-z0-9]{1,13}$/.test(i.net.iface) ? i.net.iface : 'metal0';
}

// ifupdown: the .link file and an interfaces.d stanza (plus the source line when interfaces lacks one). Pure.
export function ifupdownFiles(i: WriterInput): NetworkFiles {
  const notes: string[] = [];
  const name = pinnedName(i);
  const files: PlannedFile[] = [
    { path: LINK_FILE, content: `${header(i)}\n[Match]\nMACAddress=${i.net.mac}\nType=ether\n\n[Link]\nName=${name}\n`, mode: 0o644, why: `udev names the NIC ${i.net.mac} "${name}" for ifupdown` },
    { path: IFUPDOWN_FILE, content: stanza(i, name), mode: 0o644, why: `ifupdown: "${name}" configured` },
  ];
  const text = i.interfaces ?? '';
  if (!/^\s*source(-directory)?\s+(\/etc\/network\/)?interfaces\.d(\/\*)?\s*$/m.test(text)) {
    files.push({ path: 'etc/network/interfaces', content: `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}\n# added by xepa finish (job ${i.job}): read the metal NIC's stanza\nsource /etc/network/interfaces.d/*\n`, mode: 0o644, why: 'ifupdown did not read interfaces.d: a source line added at the end' });
  }
  if (i.mode === 'rescue' && i.net.dns.length && !i.resolvconf) files.push(...resolvConfFile(i, notes));
  notes.push(`the server's NIC is named ${name} in the installed system by udev through ${LINK_FILE}`);
  return { files, notes };
}

// The interfaces(5) stanza. Pure.
export function stanza(i: WriterInput, name: string): string {
  const out = [header(i), `allow-hotplug ${name}`];
  if (i.mode === 'dhcp') out.push(`iface ${name} inet dhcp`, `iface ${name} inet6 auto`);
  else {
    const [first, ...more] = i.net.ipv4;
    if (first) {
      out.push(`iface ${name} inet static`, `    address ${first.address}/${first.prefix}`);
      const gw = i.net.gateway4;
      if (gw && !gw.onLink) out.push(`    gateway ${gw.address}`);
      if (gw?.onLink) {
        // the gateway is outside the subnet: a host route to it on the link, then the default route through it
        out.push(`    up ip route add ${gw.address}/32 dev ${name}`, `    up ip route add default via ${gw.address} dev ${name}`);
        out.push(`    down ip route del default via ${gw.address} dev ${name} || true`, `    down ip route del ${gw.address}/32 dev ${name} || true`);
      }
      for (const a of more) out.push(`    up ip addr add ${a.address}/${a.prefix} dev ${name}`);
      if (i.resolvconf && i.net.dns.length) out.push(`    dns-nameservers ${i.net.dns.join(' ')}`);
      if (i.resolvconf && i.net.search.length) out.push(`    dns-search ${i.net.search.join(' ')}`);
    } else out.push(`iface ${name} inet manual`);
    const s6 = i.net.ipv6.filter((a) => !a.dynamic);
    if (s6.length) {
      out.push(`iface ${name} inet6 static`, `    address ${s6[0]!.address}/${s6[0]!.prefix}`, ...(i.net.gateway6 ? [`    gateway ${i.net.gateway6}`] : []), `    accept_ra ${acceptRa(i) ? 2 : 0}`);
      for (const a of s6.slice(1)) out.push(`    up ip -6 addr add ${a.address}/${a.prefix} dev ${name}`);
    } else if (i.net.ipv6.length) out.push(`iface ${name} inet6 auto`);
  }
  return `${out.join('\n')}\n`;
}
