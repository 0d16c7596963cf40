import { z } from 'zod';

// PCI passthrough in requests and plans (DESIGN §2): what is bound to vfio-pci, why, and what is protected.

const bdf = z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i, 'a BDF looks like 0000:01:00.0');

// Names a NIC to hand to the installer VM: by interface name, MAC or BDF (exactly one).
export const NicSelector = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,15}$/, 'an interface name').optional(),
    mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'a MAC looks like a0:36:9f:00:00:01').optional(),
    bdf: bdf.optional(),
  })
  .strict()
  .refine((n) => [n.name, n.mac, n.bdf].filter((x) => x !== undefined).length === 1, {
    message: 'a NIC is named by exactly one of name, mac or bdf',
  });
export type NicSelector = z.infer<typeof NicSelector>;

// How disks reach the VM: `auto` passes controllers through when their IOMMU group is safe to take and
// falls back to raw block devices (with a warning) otherwise; `vfio` refuses instead of falling back;
// `raw` never binds anything.
export const PassthroughMode = z.enum(['auto', 'vfio', 'raw']);
export type PassthroughMode = z.infer<typeof PassthroughMode>;

// A PCI function given to the VM as `-device vfio-pci,host=BDF`.
export const PassthroughDevice = z.object({
  bdf: z.string(),
  vendorId: z.string(),
  deviceId: z.string(),
  classCode: z.string(),
  className: z.string(),
  name: z.string().optional(), // from pci.ids when present: "Samsung Electronics Co Ltd NVMe SSD Controller PM9A1"
  driver: z.string().optional(), // the driver it has now (restored after the VM)
  iommuGroup: z.number().int(),
  role: z.enum(['disk-controller', 'nic']),
  disks: z.array(z.object({ name: z.string(), serial: z.string().optional(), wwn: z.string().optional() })),
  nics: z.array(z.string()),
  bootIndex: z.number().int().optional(), // controllers boot first, the CD-ROM after them
});
export type PassthroughDevice = z.infer<typeof PassthroughDevice>;

// One member of an IOMMU group involved in the plan and what binding does to it.
export const PlanGroupMember = z.object({
  bdf: z.string(),
  className: z.string(),
  driver: z.string().optional(),
  action: z.enum(['bind', 'leave', 'blocked']), // bind to vfio-pci; leave (bridges); blocked (why the group is refused)
  note: z.string(),
});
export type PlanGroupMember = z.infer<typeof PlanGroupMember>;

// An IOMMU group the plan considered: isolatable (every endpoint can go to vfio-pci) or not, and why.
export const PlanGroup = z.object({
  group: z.number().int(),
  isolatable: z.boolean(),
  reason: z.string(),
  members: z.array(PlanGroupMember),
});
export type PlanGroup = z.infer<typeof PlanGroup>;

// A device the rescue system depends on (directly or by sharing an IOMMU group with one); never bound.
export const ProtectedDevice = z.object({
  bdf: z.string(),
  className: z.string(),
  driver: z.string().optional(),
  iommuGroup: z.number().int().optional(),
  reasons: z.array(z.string()),
  overridable: z.boolean(), // false: not even forceProtected binds it (controller NIC, mounted disks)
});
export type ProtectedDevice = z.infer<typeof ProtectedDevice>;

// The passthrough part of a plan.
export const PlanPassthrough = z.object({
  mode: z.enum(['vfio', 'raw', 'mixed']), // how the planned disks reach the VM
  devices: z.array(PassthroughDevice), // given to the VM
  bind: z.array(z.object({ bdf: z.string(), group: z.number().int() })), // every endpoint bound (whole groups)
  groups: z.array(PlanGroup),
  protected: z.array(ProtectedDevice),
  interruptRemapping: z.enum(['on', 'off', 'unknown']),
  forced: z.array(z.object({ bdf: z.string(), reasons: z.array(z.string()), why: z.string() })).optional(),
});
export type PlanPassthrough = z.infer<typeof PlanPassthrough>;
