import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readInventory } from '../../../agent/machine/index.js';
import { Inventory } from '../../../agent/protocol/inventory.js';
import { type FakeHost, buildFakeHost, loopDisk, virtioDisk } from './fake-sysfs.js';

// This project's development VM, rebuilt from what was captured of it (fixtures/firecracker-vm/, including
// sysfs-listing.txt): a virtio root disk with serial "overlayblk", eight unattached loops, zram0, a virtio NIC.
const fixture = (f: string): string => readFileSync(new URL(`./fixtures/firecracker-vm/${f}`, import.meta.url), 'utf8');

const vm: FakeHost = {
  pci: [
    { bdf: '0000:00:00.0', vendor: '0x8086', device: '0x0d57', class: '0x060000' },
    { bdf: '0000:00:01.0', vendor: '0x1af4', device: '0x1045', class: '0xffff00', driver: 'virtio-pci' },
    { bdf: '0000:00:02.0', vendor: '0x1af4', device: '0x1042', class: '0x018000', driver: 'virtio-pci' },
    { bdf: '0000:00:03.0', vendor: '0x1af4', device: '0x1041', class: '0x020000', driver: 'virtio-pci' },
  ],
  block: [
    virtioDisk({ name: 'vda', bdf: '0000:00:02.0', dev: '254:0', serial: 'overlayblk', sizeSectors: 536870912 }),
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => loopDisk({ name: `loop${i}`, dev: `7:${i}` })),
    { name: 'zram0', dev: '253:0' },
  ],
  net: [
    { name: 'eth0', device: 'devices/pci0000:00/0000:00:03.0/virtio2', driver: 'virtio_net', mac: '02:fc:00:00:00:01', operstate: 'up', carrier: '1', speed: '-1' },
    { name: 'ifb0', mac: '06:48:0d:6f:0c:1c', operstate: 'down' },
    { name: 'lo', mac: '00:00:00:00:00:00', operstate: 'unknown' },
  ],
  proc: {
    cpuinfo: fixture('cpuinfo'),
    meminfo: fixture('meminfo'),
    mounts: fixture('mounts'),
    'self/mountinfo': fixture('mountinfo'),
    swaps: fixture('swaps'),
    'net/route': fixture('net-route'),
    'net/ipv6_route': fixture('net-ipv6-route'),
  },
  dev: ['kvm'],
};

describe('inventory of the captured Firecracker VM', () => {
  it('lists the root disk as mounted, skips unattached loops and zram, and finds the management NIC', async () => {
    const t = await buildFakeHost(vm);
    try {
      const inv = await readInventory({ ...t, log: pino({ level: 'silent' }), hostname: () => 'vm', networkInterfaces: () => ({}) });
      expect(Inventory.safeParse(inv).success).toBe(true);
      expect(inv.disks).toEqual([
        { name: 'vda', path: '/dev/vda', sizeBytes: 274877906944, serial: 'overlayblk', transport: 'virtio', pciAddress: '0000:00:02.0', removable: false, readOnly: false, inUse: ['mounted at /'] },
      ]);
      expect(inv.cpu).toEqual({ model: 'AMD EPYC', vendor: 'AMD', cores: 2, threads: 2, virtualization: false, hypervisor: true });
      expect(inv.nics.map((n) => [n.name, n.defaultRoute, n.virtual, n.pciAddress])).toEqual([
        ['eth0', true, false, '0000:00:03.0'],
        ['ifb0', false, true, undefined],
      ]);
      expect(inv.firmware).toEqual({ mode: 'bios' });
      expect(inv.iommu).toEqual({ enabled: false, groups: 0 });
      expect(inv.pci.find((p) => p.address === '0000:00:02.0')?.className).toBe('Mass storage controller');
    } finally {
      await t.cleanup();
    }
  });
});
