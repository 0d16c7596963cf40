import type { PciInfo } from '../protocol/inventory.js';
import { pciClassName } from './pci-classes.js';
import type { Sysfs } from './sysfs.js';

// One PCI function from /sys/bus/pci/devices/<bdf>: ids, class, bound driver and IOMMU group.
export async function readPciDevice(sysfs: Sysfs, address: string): Promise<PciInfo> {
  const dir = `bus/pci/devices/${address}`;
  const [vendorId, deviceId, classCode, driver, group] = await Promise.all([
    sysfs.readText(`${dir}/vendor`),
    sysfs.readText(`${dir}/device`),
    sysfs.readText(`${dir}/class`),
    sysfs.readLinkName(`${dir}/driver`),
    sysfs.readLinkName(`${dir}/iommu_group`),
  ]);
  const info: PciInfo = {
    address,
    vendorId: vendorId ?? '',
    deviceId: deviceId ?? '',
    classCode: classCode ?? '',
    className: classCode === undefined ? 'unknown' : pciClassName(classCode),
  };
  if (driver !== undefined) info.driver = driver;
  if (group !== undefined && /^\d+$/.test(group)) info.iommuGroup = Number(group);
  return info;
}

// Every PCI function the kernel knows, in address order.
export async function listPciDevices(sysfs: Sysfs): Promise<PciInfo[]> {
  const addresses = await sysfs.list('bus/pci/devices');
  return Promise.all(addresses.map((a) => readPciDevice(sysfs, a)));
}
