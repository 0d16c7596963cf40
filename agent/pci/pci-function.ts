import { BDF_RE, pciClassName, type Sysfs } from '../host/index.js';
import type { PciInfo } from '../protocol/index.js';
import type { PciIds } from './pci-ids.js';
import type { HeaderType, PciFunction } from './types.js';

// PCI spec: the header type register is byte 0x0e of config space; bit 7 only flags a multi-function device.
const HEADER_TYPE_OFFSET = 0x0e;
const HEADER_TYPES: Record<number, HeaderType> = { 0: 'endpoint', 1: 'bridge', 2: 'cardbus' };

// The header type from config space (any user may read its first 64 bytes); without config space, from the
// class: PCI-to-PCI (0x0604) and semi-transparent (0x0609) bridges have type 1, CardBus bridges (0x0607) 2.
export function headerTypeOf(config: Buffer | undefined, classCode: string): HeaderType {
  if (config !== undefined && config.length > HEADER_TYPE_OFFSET) {
    return HEADER_TYPES[config[HEADER_TYPE_OFFSET]! & 0x7f] ?? 'unknown';
  }
  const sub = classCode.toLowerCase().replace(/^0x/, '').padStart(6, '0').slice(0, 4);
  if (sub === '0604' || sub === '0609') return 'bridge';
  if (sub === '0607') return 'cardbus';
  return classCode === '' ? 'unknown' : 'endpoint';
}

const orUndefined = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

// One PCI function from /sys/bus/pci/devices/<bdf>; `ids` adds pci.ids names when the database exists.
export async function readPciFunction(sysfs: Sysfs, bdf: string, ids?: PciIds): Promise<PciFunction> {
  const dir = `bus/pci/devices/${bdf}`;
  const [vendorId, deviceId, classCode, subVendor, subDevice, driver, override, group, numa, reset, config, real] = await Promise.all([
    sysfs.readText(`${dir}/vendor`),
    sysfs.readText(`${dir}/device`),
    sysfs.readText(`${dir}/class`),
    sysfs.readText(`${dir}/subsystem_vendor`),
    sysfs.readText(`${dir}/subsystem_device`),
    sysfs.readLinkName(`${dir}/driver`),
    sysfs.readAttr(`${dir}/driver_override`),
    sysfs.readLinkName(`${dir}/iommu_group`),
    sysfs.readAttr(`${dir}/numa_node`),
    sysfs.readAttr(`${dir}/reset_method`),
    sysfs.readBytes(`${dir}/config`),
    sysfs.realpath(dir),
  ]);
  const fn: PciFunction = {
    bdf,
    vendorId: vendorId ?? '',
    deviceId: deviceId ?? '',
    classCode: classCode ?? '',
    className: classCode === undefined ? 'unknown' : pciClassName(classCode),
    headerType: headerTypeOf(config, classCode ?? ''),
    resetMethods: orUndefined(reset)?.split(/\s+/) ?? [],
    disks: [],
    nics: [],
  };
  if (orUndefined(subVendor)) fn.subsystemVendorId = subVendor!;
  if (orUndefined(subDevice)) fn.subsystemDeviceId = subDevice!;
  if (driver !== undefined) fn.driver = driver;
  if (override !== undefined && override !== '(null)' && override !== '') fn.driverOverride = override;
  if (group !== undefined && /^\d+$/.test(group)) fn.iommuGroup = Number(group);
  if (numa !== undefined && /^\d+$/.test(numa)) fn.numaNode = Number(numa); // -1: no NUMA information
  const chain = (real ?? '').split('/').filter((p) => BDF_RE.test(p));
  if (chain.length >= 2) fn.parent = chain[chain.length - 2]!.toLowerCase();
  if (ids && vendorId && deviceId) {
    const names = await ids.lookup(vendorId, deviceId);
    if (names.vendor !== undefined) fn.vendorName = names.vendor;
    if (names.device !== undefined) fn.deviceName = names.device;
  }
  return fn;
}

// A short human label: "NVMe controller (Samsung Electronics Co Ltd NVMe SSD Controller PM9A1)".
export function describePci(fn: Pick<PciFunction, 'className' | 'vendorName' | 'deviceName'>): string {
  const name = [fn.vendorName, fn.deviceName].filter(Boolean).join(' ');
  return name === '' ? fn.className : `${fn.className} (${name})`;
}

// The function as the inventory lists it (the wire's PciInfo): ids, class, driver, IOMMU group.
export function pciInfoOf(fn: PciFunction): PciInfo {
  const info: PciInfo = { address: fn.bdf, vendorId: fn.vendorId, deviceId: fn.deviceId, classCode: fn.classCode, className: fn.className };
  if (fn.driver !== undefined) info.driver = fn.driver;
  if (fn.iommuGroup !== undefined) info.iommuGroup = fn.iommuGroup;
  return info;
}
