import { z } from 'zod';

// What `inventory` reports about the machine the agent runs on.
export const DiskInfo = z.object({
  name: z.string(), // kernel name: nvme0n1, sda, loop3
  path: z.string(), // /dev/nvme0n1
  sizeBytes: z.number().int().nonnegative(),
  serial: z.string().optional(),
  wwn: z.string().optional(),
  model: z.string().optional(),
  transport: z.string().optional(), // nvme, sata, sas, virtio, usb, loop ...
  removable: z.boolean(),
  readOnly: z.boolean(),
  pciAddress: z.string().optional(), // BDF of the controller, when behind PCI
  inUse: z.array(z.string()), // reasons the disk is in use: "mounted at /", "swap", "holder dm-0" ...
});
export type DiskInfo = z.infer<typeof DiskInfo>;

export const NicInfo = z.object({
  name: z.string(),
  mac: z.string().optional(),
  linkUp: z.boolean(),
  speedMbps: z.number().optional(),
  addresses: z.array(z.string()),
  defaultRoute: z.boolean(), // carries the default route (the management NIC)
  pciAddress: z.string().optional(),
  driver: z.string().optional(),
  virtual: z.boolean(),
});
export type NicInfo = z.infer<typeof NicInfo>;

export const PciInfo = z.object({
  address: z.string(), // 0000:00:1f.2
  vendorId: z.string(), // 0x8086
  deviceId: z.string(),
  classCode: z.string(), // 0x010601
  className: z.string(), // human class name: "SATA controller"
  driver: z.string().optional(),
  iommuGroup: z.number().int().optional(),
});
export type PciInfo = z.infer<typeof PciInfo>;

export const Inventory = z.object({
  hostname: z.string(),
  cpu: z.object({
    model: z.string(),
    vendor: z.string(),
    cores: z.number().int(),
    threads: z.number().int(),
    virtualization: z.boolean(), // vmx/svm present
    hypervisor: z.boolean(), // running under a hypervisor (cpuinfo flag)
  }),
  memory: z.object({ totalBytes: z.number(), availableBytes: z.number() }),
  firmware: z.object({ mode: z.enum(['bios', 'uefi']), secureBoot: z.boolean().optional() }),
  kvm: z.object({ device: z.boolean(), usable: z.boolean().optional(), reason: z.string() }),
  iommu: z.object({ enabled: z.boolean(), groups: z.number().int() }),
  disks: z.array(DiskInfo),
  nics: z.array(NicInfo),
  pci: z.array(PciInfo),
});
export type Inventory = z.infer<typeof Inventory>;
