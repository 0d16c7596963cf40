// The rescue system's live network from iproute2's JSON as captured from real network namespaces
// (fixtures/*.json: a veth with the server's MAC, a /32 and an on-link gateway; a bridge on a /29).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeRescueNetwork, inSubnet4, parseRescueNetwork, readRescueNetwork } from '../../../agent/landing/index.js';

const fx = (n: string): string => readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'utf8');
const onlink = { addr: fx('onlink32-addr.json'), route4: fx('onlink32-route4.json'), route6: fx('onlink32-route6.json') };

describe('the rescue network', () => {
  it('reads the NIC of the default route: MAC, a /32 with the on-link gateway, IPv6 with fe80::1, DNS', () => {
    const n = parseRescueNetwork({ ...onlink, resolvConf: '# from the provider\nnameserver 185.12.64.1\nnameserver 2a01:4ff:ff00::add:1\nsearch example.net\n' });
    expect(n).toEqual({
      iface: 'eth0',
      mac: 'a0:36:9f:12:34:56',
      ipv4: [{ address: '203.0.113.10', prefix: 32 }],
      gateway4: { address: '203.0.113.1', onLink: true },
      ipv6: [{ address: '2001:db8:10::10', prefix: 64, dynamic: false }],
      gateway6: 'fe80::1',
      dns: ['185.12.64.1', '2a01:4ff:ff00::add:1'],
      search: ['example.net'],
      notes: [],
    });
    expect(describeRescueNetwork(n)).toBe('eth0 a0:36:9f:12:34:56: 203.0.113.10/32 via 203.0.113.1 (on-link); 2001:db8:10::10/64 via fe80::1; DNS 185.12.64.1 2a01:4ff:ff00::add:1');
  });

  it('calls a gateway outside every subnet on-link even when the route is not marked onlink', () => {
    const route4 = JSON.stringify(JSON.parse(onlink.route4).map((r: { flags: string[] }) => ({ ...r, flags: [] })));
    expect(parseRescueNetwork({ ...onlink, route4, resolvConf: '' }).gateway4).toEqual({ address: '203.0.113.1', onLink: true });
    expect(inSubnet4('198.51.100.14', '198.51.100.9', 29)).toBe(true);
    expect(inSubnet4('198.51.100.1', '198.51.100.9', 29)).toBe(false);
    expect(inSubnet4('10.0.0.1', '10.0.0.2', 24)).toBe(true);
  });

  it('marks a bridge (or bond, VLAN) as what it is, and a gateway outside its /29 as on-link', () => {
    const n = parseRescueNetwork({ addr: fx('bridge29-addr.json'), route4: fx('bridge29-route4.json'), route6: fx('bridge29-route6.json'), resolvConf: '' });
    expect(n).toMatchObject({ iface: 'br0', kind: 'bridge', mac: '0c:c4:7a:00:00:01', ipv4: [{ address: '198.51.100.9', prefix: 29 }], gateway4: { address: '198.51.100.1', onLink: true }, ipv6: [] });
  });

  it('keeps SLAAC addresses apart from static ones and replaces the resolved stub by its upstream servers', () => {
    const addr = JSON.stringify(JSON.parse(onlink.addr).map((l: { ifname: string; addr_info: object[] }) => (l.ifname === 'eth0' ? { ...l, addr_info: [...l.addr_info, { family: 'inet6', local: '2001:db8:10:0:a236:9fff:fe12:3456', prefixlen: 64, scope: 'global', dynamic: true, mngtmpaddr: true }] } : l)));
    const n = parseRescueNetwork({ ...onlink, addr, resolvConf: 'nameserver 127.0.0.53\noptions edns0\nsearch .\n', resolvedUpstream: 'nameserver 9.9.9.9\n' });
    expect(n.ipv6).toEqual([{ address: '2001:db8:10::10', prefix: 64, dynamic: false }, { address: '2001:db8:10:0:a236:9fff:fe12:3456', prefix: 64, dynamic: true }]);
    expect(n.dns).toEqual(['9.9.9.9']);
    expect(n.notes).toEqual(['resolv.conf names the local stub 127.0.0.53: its upstream servers are used']);
  });

  it('refuses a rescue system without a default route, naming what is missing', () => {
    expect(() => parseRescueNetwork({ addr: onlink.addr, route4: '[]', route6: '[]', resolvConf: '' })).toThrow(/no default route/);
  });

  it('reads through ip -j and the resolver files it is given', async () => {
    const calls: string[][] = [];
    const outputs: Record<string, string> = { addr: onlink.addr, route: onlink.route4, '-6': onlink.route6 };
    const n = await readRescueNetwork({
      run: async (cmd, args) => (calls.push([cmd, ...args]), { code: 0, stdout: outputs[args[1] === 'route' ? 'route' : args[1] === '-6' ? '-6' : 'addr']!, stderr: '' }),
      readFile: async (p) => (p === '/etc/resolv.conf' ? 'nameserver 192.0.2.53\n' : undefined),
    });
    expect(calls).toEqual([['ip', '-j', '-d', 'addr', 'show'], ['ip', '-j', 'route', 'show'], ['ip', '-j', '-6', 'route', 'show']]);
    expect(n.dns).toEqual(['192.0.2.53']);
    await expect(readRescueNetwork({ run: async () => ({ code: 1, stdout: '', stderr: 'Cannot open netlink socket' }), readFile: async () => undefined })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});
