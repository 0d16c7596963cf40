import { bdfFromPath } from './pci-address.js';
import type { Sysfs } from './sysfs.js';

// How a disk identifies itself: serial, WWN, model, transport and the PCI function of its controller.
export interface DiskIdentity {
  serial?: string;
  wwn?: string;
  model?: string;
  transport?: string;
  pciAddress?: string;
}

// The serial in a SCSI VPD page 0x80 (Unit Serial Number): 4 header bytes, then `length` ASCII bytes.
export function parseVpdPg80(buf: Buffer): string | undefined {
  if (buf.length < 4 || buf[1] !== 0x80) return undefined;
  const len = buf.readUInt16BE(2);
  const serial = buf.subarray(4, 4 + len).toString('latin1').replace(/\0/g, '').trim();
  return serial === '' ? undefined : serial;
}

// The transport from the kernel name and the canonical sysfs path of the disk, as lsblk names them.
export function transportOf(name: string, sysPath: string): string | undefined {
  const parts = sysPath.split('/');
  const has = (re: RegExp): boolean => parts.some((p) => re.test(p));
  if (/^nvme/.test(name)) return 'nvme';
  if (/^loop\d+/.test(name)) return 'loop';
  if (/^mmcblk/.test(name)) return 'mmc';
  if (has(/^usb\d+$/)) return 'usb'; // before ata: USB-SATA bridges sit below a USB host
  if (has(/^ata\d+$/)) return 'sata';
  if (has(/^(end_device|expander|port)-\d+/)) return 'sas';
  if (has(/^virtio\d+$/)) return 'virtio';
  if (has(/^host\d+$/)) return 'scsi';
  return undefined;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

async function firstOf(sysfs: Sysfs, paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    const v = nonEmpty(await sysfs.readAttr(p));
    if (v !== undefined) return v;
  }
  return undefined;
}

// NVMe with native multipath: /sys/block/nvme0n1 lives under devices/virtual/nvme-subsystem/nvme-subsys0,
// whose controllers (nvme0 ...) link to their PCI functions; the first controller on PCI names the BDF.
async function nvmeSubsystemBdf(sysfs: Sysfs, name: string): Promise<string | undefined> {
  for (const entry of await sysfs.list(`block/${name}/device`)) {
    if (!/^nvme\d+$/.test(entry)) continue;
    const real = await sysfs.realpath(`block/${name}/device/${entry}`);
    const bdf = real === undefined ? undefined : bdfFromPath(real);
    if (bdf !== undefined) return bdf;
  }
  return undefined;
}

// Reads a disk's identity from /sys/block/<name>; `sysPath` is its canonical path (Sysfs.realpath).
export async function readDiskIdentity(sysfs: Sysfs, name: string, sysPath: string): Promise<DiskIdentity> {
  const dir = `block/${name}`;
  const id: DiskIdentity = {};
  // NVMe controller/subsystem `serial`, virtio_blk `serial` on the disk, else SCSI VPD page 0x80.
  const serial = await firstOf(sysfs, [`${dir}/device/serial`, `${dir}/serial`]);
  const vpd = serial === undefined ? await sysfs.readBytes(`${dir}/device/vpd_pg80`) : undefined;
  const s = serial ?? (vpd ? parseVpdPg80(vpd) : undefined);
  if (s !== undefined) id.serial = s;
  // t10.* identifiers are vendor+model+serial strings, not world wide names.
  const wwn = await firstOf(sysfs, [`${dir}/wwid`, `${dir}/device/wwid`, `${dir}/wwn`, `${dir}/device/wwn`]);
  if (wwn !== undefined && !wwn.startsWith('t10.')) id.wwn = wwn;
  const model = await firstOf(sysfs, [`${dir}/device/model`]);
  if (model !== undefined) id.model = model;
  const transport = transportOf(name, sysPath);
  if (transport !== undefined) id.transport = transport;
  const bdf = bdfFromPath(sysPath) ?? (transport === 'nvme' ? await nvmeSubsystemBdf(sysfs, name) : undefined);
  if (bdf !== undefined) id.pciAddress = bdf;
  return id;
}
