import { describe, expect, it } from 'vitest';
import { ifupdownFiles, networkFilesFor, networkdUnit, netplanYaml, nmKeyfile, pinnedName, type WriterInput } from '../../../agent/landing/index.js';
import type { RescueNetwork } from '../../../agent/protocol/index.js';

const net: RescueNetwork = {
  iface: 'eth0',
  mac: 'a0:36:9f:12:34:56',
  ipv4: [{ address: '203.0.113.10', prefix: 32 }],
  gateway4: { address: '203.0.113.1', onLink: true },
  ipv6: [{ address: '2001:db8:10::10', prefix: 64, dynamic: false }],
  gateway6: 'fe80::1',
  dns: ['185.12.64.1', '2a01:4ff:ff00::add:1'],
  search: ['example.net'],
  notes: [],
};
const base: WriterInput = { mode: 'rescue', net, job: 'job-1', resolved: false, resolvconf: false, resolvConf: 'file' };
const HEADER = "# Written by xepa finish (job job-1): the server's NIC, matched by its MAC a0:36:9f:12:34:56\n# (the installer's VM named its NIC otherwise), configured with the rescue system's live configuration.\n";

describe('network writers', () => {
  it('systemd-networkd: matches the MAC, static /32 with the on-link gateway, IPv6 static without RA', () => {
    expect(networkdUnit(base)).toBe(`${HEADER}
[Match]
MACAddress=a0:36:9f:12:34:56
Type=ether

[Network]
Address=203.0.113.10/32
Address=2001:db8:10::10/64
DNS=185.12.64.1
DNS=2a01:4ff:ff00::add:1
Domains=example.net
IPv6AcceptRA=no

[Route]
Gateway=203.0.113.1
GatewayOnLink=yes

[Route]
Gateway=fe80::1
GatewayOnLink=yes
`);
    const dhcp = networkdUnit({ ...base, mode: 'dhcp' });
    expect(dhcp).toMatch(/\[Network\]\nDHCP=yes\nIPv6AcceptRA=yes\n$/);
  });

  it('systemd-networkd without resolved also writes resolv.conf, unless resolv.conf is a resolver\'s link', () => {
    expect(networkFilesFor('systemd-networkd', base).files.map((f) => f.path)).toEqual(['etc/systemd/network/05-xepa-metal.network', 'etc/resolv.conf']);
    expect(networkFilesFor('systemd-networkd', { ...base, resolved: true }).files.map((f) => f.path)).toEqual(['etc/systemd/network/05-xepa-metal.network']);
    const linked = networkFilesFor('systemd-networkd', { ...base, resolvConf: 'link' });
    expect(linked.files).toHaveLength(1);
    expect(linked.notes[0]).toMatch(/resolv.conf is a symlink/);
    expect(networkFilesFor('systemd-networkd', base).files[1]!.content).toBe(`${HEADER}search example.net\nnameserver 185.12.64.1\nnameserver 2a01:4ff:ff00::add:1\n`);
  });

  it('netplan: an id that sorts first, match by macaddress without set-name, on-link default routes, 0600', () => {
    expect(netplanYaml(base)).toBe(`${HEADER}network:
  version: 2
  ethernets:
    "00-xepa-metal":
      match:
        macaddress: "a0:36:9f:12:34:56"
      dhcp4: false
      dhcp6: false
      addresses:
        - "203.0.113.10/32"
        - "2001:db8:10::10/64"
      routes:
        - to: default
          via: "203.0.113.1"
          on-link: true
        - to: "::/0"
          via: "fe80::1"
          on-link: true
      nameservers:
        addresses: ["185.12.64.1", "2a01:4ff:ff00::add:1"]
        search: ["example.net"]
      accept-ra: false
`);
    expect(networkFilesFor('netplan', { ...base, resolved: true }).files).toEqual([expect.objectContaining({ path: 'etc/netplan/90-xepa-metal.yaml', mode: 0o600 })]);
    expect(netplanYaml({ ...base, netplanRenderer: 'NetworkManager' })).toMatch(/macaddress: "a0:36:9f:12:34:56"\n      renderer: NetworkManager\n/);
  });

  it('NetworkManager: a keyfile bound to the MAC with a host route to the on-link gateway, preferred over auto connections', () => {
    const k = nmKeyfile(base);
    expect(k).toContain('[ethernet]\nmac-address=A0:36:9F:12:34:56\n');
    expect(k).toContain('autoconnect-priority=100');
    expect(k).toContain('[ipv4]\nmethod=manual\naddress1=203.0.113.10/32\nroute1=203.0.113.1/32\nroute2=0.0.0.0/0,203.0.113.1\ndns=185.12.64.1;\ndns-search=example.net;\n');
    expect(k).toContain('[ipv6]\nmethod=manual\naddress1=2001:db8:10::10/64\ngateway=fe80::1\ndns=2a01:4ff:ff00::add:1;\n');
    expect(k).toMatch(/uuid=[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n/);
    expect(nmKeyfile(base)).toBe(k); // the same job and MAC: the same connection
    const inSubnet = nmKeyfile({ ...base, net: { ...net, ipv4: [{ address: '192.0.2.10', prefix: 24 }], gateway4: { address: '192.0.2.1', onLink: false } } });
    expect(inSubnet).toContain('address1=192.0.2.10/24\ngateway=192.0.2.1\n');
    expect(networkFilesFor('network-manager', base).files[0]).toMatchObject({ path: 'etc/NetworkManager/system-connections/xepa-metal.nmconnection', mode: 0o600 });
  });

  it('ifupdown: a .link file names the NIC by MAC, the stanza uses that name with the on-link routes', () => {
    const f = ifupdownFiles({ ...base, interfaces: 'source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n' });
    expect(f.files.map((x) => x.path)).toEqual(['etc/systemd/network/05-xepa-metal.link', 'etc/network/interfaces.d/xepa-metal', 'etc/resolv.conf']);
    expect(f.files[0]!.content).toBe(`${HEADER}\n[Match]\nMACAddress=a0:36:9f:12:34:56\nType=ether\n\n[Link]\nName=metal0\n`);
    expect(f.files[1]!.content).toBe(`${HEADER}
allow-hotplug metal0
iface metal0 inet static
    address 203.0.113.10/32
    up ip route add 203.0.113.1/32 dev metal0
    up ip route add default via 203.0.113.1 dev metal0
    down ip route del default via 203.0.113.1 dev metal0 || true
    down ip route del 203.0.113.1/32 dev metal0 || true
iface metal0 inet6 static
    address 2001:db8:10::10/64
    gateway fe80::1
    accept_ra 0
`);
  });

  it('ifupdown: keeps a predictable rescue name, adds the source line interfaces lacks, and uses resolvconf when installed', () => {
    expect(pinnedName({ ...base, net: { ...net, iface: 'enp3s0f0' } })).toBe('enp3s0f0');
    expect(pinnedName(base)).toBe('metal0');
    const f = ifupdownFiles({ ...base, resolvconf: true, interfaces: 'auto lo\niface lo inet loopback' });
    const iface = f.files.find((x) => x.path === 'etc/network/interfaces')!;
    expect(iface.content).toBe('auto lo\niface lo inet loopback\n\n# added by xepa finish (job job-1): read the metal NIC\'s stanza\nsource /etc/network/interfaces.d/*\n');
    expect(f.files.some((x) => x.path === 'etc/resolv.conf')).toBe(false);
    expect(f.files.find((x) => x.path === 'etc/network/interfaces.d/xepa-metal')!.content).toContain('    dns-nameservers 185.12.64.1 2a01:4ff:ff00::add:1\n    dns-search example.net\n');
  });

  it('DHCP on the NIC by MAC for every stack', () => {
    const dhcp: WriterInput = { ...base, mode: 'dhcp' };
    expect(netplanYaml(dhcp)).toContain('      dhcp4: true\n      dhcp6: true\n      accept-ra: true\n');
    expect(nmKeyfile(dhcp)).toContain('[ipv4]\nmethod=auto\n');
    expect(ifupdownFiles(dhcp).files[1]!.content).toContain('iface metal0 inet dhcp\n');
    expect(ifupdownFiles(dhcp).files.some((x) => x.path === 'etc/resolv.conf')).toBe(false);
  });
});
