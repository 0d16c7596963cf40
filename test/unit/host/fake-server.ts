import type { FakeHost } from './fake-sysfs.js';
import {
  dmDevice,
  intelCpuinfo,
  loopDisk,
  meminfo,
  mountinfoTable,
  mountsTable,
  nvmeDisk,
  pciDevice,
  pciNic,
  routeTable,
  sataDisk,
  swapsTable,
  virtioDisk,
} from './fake-sysfs.js';

// A typical rescue-booted server: two NVMe (one holding LVM root and the ESP), four SATA disks (swap, free,
// whole-disk mount, /dev/root), a virtio disk, loops, zram, a CD drive, two NICs with eth0 the management one.
export function fakeServer(over: Partial<FakeHost> = {}): FakeHost {
  return {
    pci: [
      pciDevice('0000:00:00.0', 'bridge', { device: '0x29c0', iommuGroup: 0 }),
      pciDevice('0000:00:01.0', 'bridge', { class: '0x060400', driver: 'pcieport', iommuGroup: 1 }),
      pciDevice('0000:01:00.0', 'nvme', { parent: '0000:00:01.0', iommuGroup: 2 }),
      pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 3 }),
      pciDevice('0000:00:1f.2', 'ahci', { iommuGroup: 4 }),
      pciDevice('0000:00:04.0', 'virtio-blk', { iommuGroup: 5 }),
      pciDevice('0000:03:00.0', 'ethernet', { iommuGroup: 6 }),
      pciDevice('0000:03:00.1', 'ethernet', { iommuGroup: 6 }),
    ],
    block: [
      {
        ...nvmeDisk({ name: 'nvme0n1', bdf: '0000:00:01.0/0000:01:00.0', dev: '259:0', serial: 'S5P2NG0R100001', wwid: 'eui.0025388b71b0c1e5', sizeSectors: 1953525168 }),
        partitions: [
          { name: 'nvme0n1p1', dev: '259:1', sizeSectors: 1048576 },
          { name: 'nvme0n1p2', dev: '259:2', sizeSectors: 1952476592, holders: ['dm-0'] },
        ],
      },
      nvmeDisk({ name: 'nvme1n1', bdf: '0000:02:00.0', dev: '259:3', serial: 'S5P2NG0R100002', sizeSectors: 1953525168 }),
      sataDisk({ name: 'sda', bdf: '0000:00:1f.2', port: 1, dev: '8:0', serial: 'ZC10AAAA', wwid: 'naa.5000c500a1b2c3d4', sizeSectors: 7814037168, partitions: [{ name: 'sda1', dev: '8:1' }] }),
      sataDisk({ name: 'sdb', bdf: '0000:00:1f.2', port: 2, dev: '8:16', serial: 'ZC10BBBB', wwid: 't10.ATA     ST4000NM0035 ZC10BBBB', sizeSectors: 7814037168 }),
      sataDisk({ name: 'sdc', bdf: '0000:00:1f.2', port: 3, dev: '8:32', serial: 'ZC10CCCC', sizeSectors: 7814037168 }),
      sataDisk({ name: 'sdd', bdf: '0000:00:1f.2', port: 4, dev: '8:48', serial: 'ZC10DDDD', sizeSectors: 7814037168, partitions: [{ name: 'sdd1', dev: '8:49' }] }),
      virtioDisk({ name: 'vda', bdf: '0000:00:04.0', dev: '254:0', sizeSectors: 2097152 }),
      loopDisk({ name: 'loop0', dev: '7:0', backingFile: '/run/xepa/alpine.squashfs', sizeSectors: 409600, ro: true }),
      loopDisk({ name: 'loop1', dev: '7:1' }),
      dmDevice({ name: 'dm-0', dev: '253:0', dmName: 'vg-root', sizeSectors: 1952476592 }),
      { name: 'zram0', dev: '252:0', sizeSectors: 8388608 },
      { name: 'ram0', dev: '1:0', sizeSectors: 8192 },
      { name: 'sr0', dev: '11:0', at: 'devices/pci0000:00/0000:00:1f.2/ata5/host4/target4:0:0/4:0:0:0/block/sr0', removable: true },
    ],
    net: [
      pciNic({ name: 'eth0', bdf: '0000:03:00.0', driver: 'igb', mac: 'a0:36:9f:00:00:01', operstate: 'up', carrier: '1', speed: '1000' }),
      pciNic({ name: 'eth1', bdf: '0000:03:00.1', driver: 'igb', mac: 'a0:36:9f:00:00:02', operstate: 'down' }),
      { name: 'lo', mac: '00:00:00:00:00:00', operstate: 'unknown' },
      { name: 'br0', mac: '02:00:00:00:00:09', operstate: 'unknown', carrier: '1' },
    ],
    efi: { secureBoot: false },
    sys: { 'class/net/bonding_masters': '\n' },
    proc: {
      cpuinfo: intelCpuinfo(),
      meminfo: meminfo(65536000, 60000000),
      mounts: mountsTable([
        ['/dev/mapper/vg-root', '/', 'ext4'],
        ['/dev/nvme0n1p1', '/boot/efi', 'vfat'],
        ['/dev/sdc', '/srv', 'xfs'],
        ['/dev/root', '/media/rescue', 'ext4'],
        ['tmpfs', '/run', 'tmpfs'],
      ]),
      'self/mountinfo': mountinfoTable([
        ['253:0', '/dev/mapper/vg-root', '/', 'ext4'],
        ['259:1', '/dev/nvme0n1p1', '/boot/efi', 'vfat'],
        ['8:32', '/dev/sdc', '/srv', 'xfs'],
        ['8:49', '/dev/root', '/media/rescue', 'ext4'],
        ['0:25', 'tmpfs', '/run', 'tmpfs'],
      ]),
      swaps: swapsTable(['/dev/sda1']),
      'net/route': routeTable('eth0'),
    },
    dev: ['kvm'],
    ...over,
  };
}
