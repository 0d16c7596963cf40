import type os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNics } from '../../../agent/host/nics.js';
import { NicInfo } from '../../../agent/protocol/inventory.js';
import { fakeServer } from './fake-server.js';
import { type FakeHostTree, buildFakeHost } from './fake-sysfs.js';

const addrs = (): ReturnType<typeof os.networkInterfaces> => ({
  eth0: [
    { address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: 'a0:36:9f:00:00:01', internal: false, cidr: '192.0.2.10/24' },
    { address: 'fe80::a236:9fff:fe00:1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: 'a0:36:9f:00:00:01', internal: false, cidr: 'fe80::a236:9fff:fe00:1/64', scopeid: 2 },
  ],
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
});

let host: FakeHostTree;
let nics: NicInfo[];
beforeAll(async () => {
  host = await buildFakeHost(fakeServer());
  nics = await listNics({ ...host, networkInterfaces: addrs });
});
afterAll(() => host.cleanup());

describe('listNics', () => {
  it('lists interfaces except loopback and plain files such as bonding_masters, valid against the schema', () => {
    expect(nics.map((n) => n.name)).toEqual(['br0', 'eth0', 'eth1']);
    for (const n of nics) expect(NicInfo.safeParse(n).success).toBe(true);
  });

  it('marks the NIC carrying the default route, with its addresses, speed, driver and BDF', () => {
    expect(nics.find((n) => n.name === 'eth0')).toEqual({
      name: 'eth0',
      mac: 'a0:36:9f:00:00:01',
      linkUp: true,
      speedMbps: 1000,
      addresses: ['192.0.2.10/24', 'fe80::a236:9fff:fe00:1/64'],
      defaultRoute: true,
      pciAddress: '0000:03:00.0',
      driver: 'igb',
      virtual: false,
    });
  });

  it('reports a down NIC without carrier or speed as link down, off the default route', () => {
    const eth1 = nics.find((n) => n.name === 'eth1');
    expect(eth1).toMatchObject({ linkUp: false, defaultRoute: false, addresses: [], pciAddress: '0000:03:00.1' });
    expect(eth1?.speedMbps).toBeUndefined();
  });

  it('reports a bridge without a device link as virtual and trusts its carrier when operstate is unknown', () => {
    const br0 = nics.find((n) => n.name === 'br0');
    expect(br0).toMatchObject({ virtual: true, linkUp: true });
    expect(br0?.pciAddress).toBeUndefined();
    expect(br0?.driver).toBeUndefined();
  });

  it('finds BDF and driver of a virtio NIC one level below its PCI function', async () => {
    const t = await buildFakeHost({
      net: [{ name: 'eth0', device: 'devices/pci0000:00/0000:00:03.0/virtio2', driver: 'virtio_net', mac: '02:fc:00:00:00:01', operstate: 'up', carrier: '1', speed: '-1' }],
      proc: { 'net/ipv6_route': `${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n` },
    });
    try {
      const [eth0] = await listNics({ ...t, networkInterfaces: () => ({}) });
      expect(eth0).toMatchObject({ pciAddress: '0000:00:03.0', driver: 'virtio_net', defaultRoute: true, virtual: false });
      expect(eth0?.speedMbps).toBeUndefined();
    } finally {
      await t.cleanup();
    }
  });
});
