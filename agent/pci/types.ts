import type { DiskInfo, NicInfo } from '../protocol/index.js';

// What kind of configuration header a function has (PCI spec: byte 0x0e of config space, low 7 bits).
export type HeaderType = 'endpoint' | 'bridge' | 'cardbus' | 'unknown';

// One PCI function as the agent sees it in sysfs, with the disks and interfaces behind it.
export interface PciFunction {
  bdf: string; // 0000:01:00.0
  vendorId: string; // 0x144d
  deviceId: string;
  classCode: string; // 0x010802
  className: string; // "NVMe controller"
  subsystemVendorId?: string;
  subsystemDeviceId?: string;
  vendorName?: string; // from pci.ids when present
  deviceName?: string;
  headerType: HeaderType;
  driver?: string; // bound driver (the `driver` symlink)
  driverOverride?: string; // driver_override, undefined when "(null)"
  iommuGroup?: number;
  numaNode?: number; // undefined when the kernel says -1 (no NUMA)
  resetMethods: string[]; // reset_method (Linux >= 5.15): flr, pm, bus ...; [] when unknown
  parent?: string; // BDF of the upstream bridge or root port
  disks: string[]; // kernel names of the disks behind it (nvme0n1, sda)
  nics: string[]; // interfaces behind it (eth0)
}

// IOMMU state: on when the kernel made groups; interrupt remapping from /proc/interrupts chip names.
export interface IommuState {
  enabled: boolean;
  groups: number;
  kind?: 'intel' | 'amd' | 'other'; // from /sys/class/iommu entry names (dmar*, ivhd*)
  interruptRemapping: 'on' | 'off' | 'unknown';
  unsafeInterrupts?: boolean; // vfio_iommu_type1 allow_unsafe_interrupts, when the module is loaded
  signals: string[]; // what the verdicts rest on, for people
}

// Everything the planner and the protected set need to know about the machine's PCI side.
export interface PciView {
  iommu: IommuState;
  devices: PciFunction[];
  groups: Map<number, string[]>; // group -> member BDFs
  disks: DiskInfo[];
  nics: NicInfo[];
}
