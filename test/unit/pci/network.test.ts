import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ipv4RouteInterface, ipv6RouteInterface, physicalNicsUnder, readCriticalNics, routeInterface } from '../../../agent/pci/index.js';
import type { FakeHostTree } from '../host/fake-sysfs.js';
import { pciNic } from '../host/fake-sysfs.js';
import { addrsOf, build, pciServer } from './fake-pci-host.js';

const trees: FakeHostTree[] = [];
afterAll(async () => Promise.all(trees.map((t) => t.cleanup())));

// /proc/net/route: default via eth0, 10.0.0.0/8 via eth1, 10.1.0.0/16 via bond0 (more specific).
const ROUTES = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  'eth1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
  'bond0\t0000010A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  '',
].join('\n');
// /proc/net/ipv6_route: 2001:db8:1::/48 via eth1 and a default route via eth0.
const ROUTES6 = [
  '20010db8000100000000000000000000 30 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth1',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0',
  '',
].join('\n');

describe('routes to the controller', () => {
  it('picks the longest matching IPv4 prefix, then the default route', () => {
    expect(ipv4RouteInterface('10.1.2.3', ROUTES)).toBe('bond0');
    expect(ipv4RouteInterface('10.9.2.3', ROUTES)).toBe('eth1');
    expect(ipv4RouteInterface('198.51.100.7', ROUTES)).toBe('eth0');
  });

  it('unwraps IPv4-mapped peers and routes IPv6 by prefix', () => {
    expect(routeInterface('::ffff:10.1.0.9', ROUTES, ROUTES6)).toBe('bond0');
    expect(ipv6RouteInterface('2001:db8:1:5::1', ROUTES6)).toBe('eth1');
    expect(ipv6RouteInterface('2001:db8:2::1', ROUTES6)).toBe('eth0');
  });
});

describe('lower devices', () => {
  it('follows a VLAN on a bond in a bridge down to the physical NICs', async () => {
    const t = await build(pciServer({
      net: [
        pciNic({ name: 'eth0', bdf: '0000:03:00.0', driver: 'igb' }),
        pciNic({ name: 'eth1', bdf: '0000:03:00.1', driver: 'igb' }),
        { name: 'bond0' }, { name: 'bond0.100' }, { name: 'br0' },
      ],
    }), trees);
    const v = (n: string): string => `${t.sysRoot}/devices/virtual/net/${n}`;
    const nicDir = (n: string, bdf: string): string => `${t.sysRoot}/devices/pci0000:00/${bdf}/net/${n}`;
    const link = async (at: string, to: string): Promise<void> => {
      await mkdir(path.dirname(at), { recursive: true });
      await symlink(path.relative(path.dirname(at), to), at);
    };
    await link(`${v('bond0')}/lower_eth0`, nicDir('eth0', '0000:03:00.0'));
    await link(`${v('bond0')}/lower_eth1`, nicDir('eth1', '0000:03:00.1'));
    await link(`${v('bond0.100')}/lower_bond0`, v('bond0'));
    await link(`${v('br0')}/brif/bond0.100`, `${v('bond0.100')}`);
    expect(await physicalNicsUnder(t.sysfs, 'br0')).toEqual([
      { name: 'eth0', via: ['br0', 'bond0.100', 'bond0'] },
      { name: 'eth1', via: ['br0', 'bond0.100', 'bond0'] },
    ]);
  });

  it('names the NIC routing to the controller and, apart, the default-route NICs', async () => {
    const t = await build(pciServer({
      net: [pciNic({ name: 'eth0', bdf: '0000:03:00.0', driver: 'igb' }), pciNic({ name: 'eth1', bdf: '0000:03:00.1', driver: 'igb' })],
      proc: { 'net/route': ROUTES.replace(/^bond0.*\n/m, '') },
    }), trees);
    const deps = { sysfs: t.sysfs, procfs: t.procfs, networkInterfaces: addrsOf('eth1', '10.0.0.5') };
    const nics = await readCriticalNics(deps, [{ remote: '10.7.7.7', local: '10.0.0.5' }]);
    expect(nics).toEqual([
      { name: 'eth1', via: [], top: 'eth1', kind: 'controller-nic' },
      { name: 'eth0', via: [], top: 'eth0', kind: 'default-route-nic' },
    ]);
  });
});
