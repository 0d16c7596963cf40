import type { FakeBlockDevice, FakeNetDevice, FakePartition, FakePciDevice } from './fake-sysfs.js';
import { pciDir } from './fake-sysfs.js';

// Shorthands for the common devices of a server, each with the sysfs shape its real driver produces.

interface DiskOpts {
  sizeSectors?: number;
  partitions?: FakePartition[];
  holders?: string[];
  ro?: boolean;
  removable?: boolean;
}

// A PCI function with the usual ids for its kind.
export function pciDevice(bdf: string, kind: 'nvme' | 'ahci' | 'virtio-blk' | 'virtio-net' | 'ethernet' | 'bridge', extra: Partial<FakePciDevice> = {}): FakePciDevice {
  const ids = {
    nvme: { vendor: '0x144d', device: '0xa808', class: '0x010802', driver: 'nvme' },
    ahci: { vendor: '0x8086', device: '0x2922', class: '0x010601', driver: 'ahci' },
    'virtio-blk': { vendor: '0x1af4', device: '0x1042', class: '0x010000', driver: 'virtio-pci' },
    'virtio-net': { vendor: '0x1af4', device: '0x1041', class: '0x020000', driver: 'virtio-pci' },
    ethernet: { vendor: '0x8086', device: '0x1533', class: '0x020000', driver: 'igb' },
    bridge: { vendor: '0x8086', device: '0x29c0', class: '0x060000', driver: undefined },
  }[kind];
  return { bdf, ...ids, ...extra } as FakePciDevice;
}

// An NVMe namespace without native multipath: devices/<pci>/nvme/nvmeN/nvmeNn1, `device` -> the controller.
export function nvmeDisk(o: DiskOpts & { name: string; bdf: string; dev: string; serial?: string; model?: string; wwid?: string }): FakeBlockDevice {
  const ctrl = o.name.replace(/n\d+$/, '');
  const ctrlDir = `${pciDir(o.bdf)}/nvme/${ctrl}`;
  return {
    ...o,
    at: `${ctrlDir}/${o.name}`,
    device: ctrlDir,
    attrs: o.wwid === undefined ? {} : { wwid: `${o.wwid}\n` },
    deviceAttrs: { serial: `${o.serial ?? ''}        \n`, model: `${o.model ?? 'Samsung SSD 980 PRO 1TB'}         \n` },
  };
}

// A SATA disk behind AHCI: devices/<pci>/ataN/hostH/targetH:0:0/H:0:0:0/block/sdX; serial in vpd_pg80.
export function sataDisk(o: DiskOpts & { name: string; bdf: string; dev: string; port?: number; serial?: string; model?: string; wwid?: string }): FakeBlockDevice {
  const h = (o.port ?? 1) - 1;
  const scsi = `${pciDir(o.bdf)}/ata${h + 1}/host${h}/target${h}:0:0/${h}:0:0:0`;
  const deviceAttrs: Record<string, string | Buffer> = { model: `${o.model ?? 'ST4000NM0035-1V4'}\n`, vendor: 'ATA     \n' };
  if (o.serial !== undefined) deviceAttrs.vpd_pg80 = vpdPg80(o.serial);
  if (o.wwid !== undefined) deviceAttrs.wwid = `${o.wwid}\n`;
  return { ...o, at: `${scsi}/block/${o.name}`, device: scsi, deviceAttrs };
}

// A virtio_blk disk: devices/<pci>/virtioN/block/vdX; QEMU without serial= leaves `serial` empty.
export function virtioDisk(o: DiskOpts & { name: string; bdf: string; dev: string; virtio?: string; serial?: string }): FakeBlockDevice {
  const vdev = `${pciDir(o.bdf)}/${o.virtio ?? 'virtio1'}`;
  return { ...o, at: `${vdev}/block/${o.name}`, device: vdev, attrs: { serial: `${o.serial ?? ''}\n` } };
}

// A loop device, attached to `backingFile` or not.
export function loopDisk(o: DiskOpts & { name: string; dev: string; backingFile?: string }): FakeBlockDevice {
  return { ...o, attrs: o.backingFile === undefined ? {} : { 'loop/backing_file': `${o.backingFile}\n`, 'loop/offset': '0\n' } };
}

// A device-mapper device (LVM LV, dm-crypt ...) named `dmName`, sitting on `slaves`.
export function dmDevice(o: { name: string; dev: string; dmName: string; sizeSectors?: number }): FakeBlockDevice {
  return { ...o, attrs: { 'dm/name': `${o.dmName}\n`, 'dm/uuid': `LVM-${o.dmName}\n` } };
}

// A NIC on a PCI function, bound to `driver`.
export function pciNic(o: Omit<FakeNetDevice, 'device'> & { bdf: string }): FakeNetDevice {
  return { ...o, device: pciDir(o.bdf) };
}

// A SCSI VPD page 0x80 (Unit Serial Number) as the kernel exposes it in vpd_pg80.
export function vpdPg80(serial: string): Buffer {
  const body = Buffer.from(serial.padStart(20, ' '), 'latin1');
  return Buffer.concat([Buffer.from([0x00, 0x80, body.length >> 8, body.length & 0xff]), body]);
}
