import type { DiskInfo, NicInfo, PassthroughDevice, PassthroughMode, PlanGroup, PlanPassthrough } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import { describePci } from './pci-function.js';
import { evaluateGroup, type GroupVerdict } from './group-check.js';
import { type Protection, protectedList } from './protected-set.js';
import type { PciView } from './types.js';

// What planPassthrough decides from: the machine, its protected set and the request's resolved devices.
export interface PassthroughInput {
  view: PciView;
  protections: Map<string, Protection[]>;
  disks: DiskInfo[]; // the request's disks, already resolved (in use ones were refused)
  nics: NicInfo[]; // the request's NICs, already resolved
  mode: PassthroughMode;
  force?: string;
}

// The passthrough part of the plan, how each disk reaches the VM, and what to warn about.
export interface PassthroughDecision {
  passthrough: PlanPassthrough;
  via: Map<string, { via: 'vfio' | 'raw'; pciAddress?: string }>; // by disk name
  warnings: string[];
}

// Decides which controllers (and NICs) go to the VM by vfio-pci: whole IOMMU groups, never the protected set.
// mode auto falls back to raw disks (with a warning) where a group cannot be taken; vfio refuses instead;
// requested NICs are always refused when their group cannot be taken (there is no raw fallback for a NIC).
export function planPassthrough(input: PassthroughInput): PassthroughDecision {
  const { view } = input;
  const warnings: string[] = [];
  const via: PassthroughDecision['via'] = new Map(input.disks.map((d) => [d.name, { via: 'raw' as const }]));
  const base = { protected: protectedList(view, input.protections), interruptRemapping: view.iommu.interruptRemapping };
  const raw = (why: string): PassthroughDecision => {
    if (input.nics.length > 0) throw new XepaError('ERR_NO_IOMMU', `cannot pass ${input.nics.map((n) => n.name).join(', ')} through: ${why}`);
    if (input.mode === 'vfio') throw new XepaError('ERR_NO_IOMMU', `cannot pass the disks' controllers through: ${why}`);
    if (input.mode === 'auto') warnings.push(`${why}: disks are given to the VM as raw block devices, not by PCI passthrough`);
    return { passthrough: { mode: 'raw', devices: [], bind: [], groups: [], ...base }, via, warnings };
  };
  if (input.mode === 'raw' && input.nics.length === 0) return raw('raw disks requested');
  if (!view.iommu.enabled) return raw('no IOMMU (no /sys/kernel/iommu_groups: enable VT-d/AMD-Vi and boot with intel_iommu=on)');
  if (view.iommu.interruptRemapping === 'off' && !view.iommu.unsafeInterrupts) {
    return raw('interrupt remapping is off, so vfio would refuse the devices (vfio_iommu_type1 allow_unsafe_interrupts=0)');
  }
  if (view.iommu.interruptRemapping === 'unknown') warnings.push('interrupt remapping could not be confirmed (/proc/interrupts): vfio may refuse the devices');

  // Targets: each requested disk's controller (in disk order) and each requested NIC.
  const targets = new Map<string, { role: PassthroughDevice['role']; disks: DiskInfo[]; nics: NicInfo[] }>();
  if (input.mode !== 'raw') {
    for (const d of input.disks) {
      if (d.pciAddress === undefined) {
        if (input.mode === 'vfio') throw new XepaError('ERR_BAD_REQUEST', `${d.path} is not behind a PCI controller: it cannot be passed through`);
        warnings.push(`${d.path} is not behind a PCI controller: it is given to the VM raw`);
        continue;
      }
      const t = targets.get(d.pciAddress) ?? { role: 'disk-controller', disks: [], nics: [] };
      t.disks.push(d);
      targets.set(d.pciAddress, t);
    }
  }
  for (const n of input.nics) {
    const t = targets.get(n.pciAddress!) ?? { role: 'nic', disks: [], nics: [] };
    t.nics.push(n);
    targets.set(n.pciAddress!, t);
  }
  const byGroup = new Map<number, string[]>();
  for (const bdf of targets.keys()) {
    const g = view.devices.find((d) => d.bdf === bdf)?.iommuGroup;
    if (g === undefined) throw new XepaError('ERR_NO_IOMMU', `cannot bind ${bdf} to vfio-pci: it has no IOMMU group`);
    byGroup.set(g, [...(byGroup.get(g) ?? []), bdf]);
  }
  const requestedDisks = new Set(input.disks.map((d) => d.name));
  const groups: PlanGroup[] = [];
  const accepted: GroupVerdict[] = [];
  const forced: NonNullable<PlanPassthrough['forced']> = [];
  for (const [g, bdfs] of [...byGroup.entries()].sort(([a], [b]) => a - b)) {
    const verdict = evaluateGroup(g, { view, protections: input.protections, targets: bdfs, requestedDisks, ...(input.force ? { force: input.force } : {}) });
    groups.push(verdict.report);
    if (verdict.refusal) {
      const hasNic = bdfs.some((b) => targets.get(b)!.nics.length > 0);
      if (hasNic || input.mode === 'vfio') throw new XepaError(verdict.refusal.code, verdict.refusal.message, { details: { group: verdict.report } });
      const names = bdfs.flatMap((b) => targets.get(b)!.disks.map((d) => d.path)).join(', ');
      warnings.push(`${verdict.refusal.message}: ${names} given to the VM raw instead`);
      continue;
    }
    accepted.push(verdict);
    for (const f of verdict.forced) forced.push({ ...f, why: input.force! });
  }
  const devices: PassthroughDevice[] = [];
  let boot = 0;
  for (const [bdf, t] of targets) {
    if (!accepted.some((v) => v.bind.includes(bdf))) continue;
    const fn = view.devices.find((d) => d.bdf === bdf)!;
    for (const d of t.disks) via.set(d.name, { via: 'vfio', pciAddress: bdf });
    const dev: PassthroughDevice = {
      bdf, vendorId: fn.vendorId, deviceId: fn.deviceId, classCode: fn.classCode, className: fn.className,
      iommuGroup: fn.iommuGroup!, role: t.role, nics: fn.nics,
      disks: view.disks.filter((d) => d.pciAddress === bdf).map((d) => ({ name: d.name, ...(d.serial ? { serial: d.serial } : {}), ...(d.wwn ? { wwn: d.wwn } : {}) })),
    };
    if (fn.vendorName !== undefined || fn.deviceName !== undefined) dev.name = describePci(fn);
    if (fn.driver !== undefined) dev.driver = fn.driver;
    if (t.role === 'disk-controller') dev.bootIndex = ++boot; // controllers first, the CD-ROM after them
    devices.push(dev);
  }
  const bind = accepted.flatMap((v) => v.bind.map((bdf) => ({ bdf, group: v.report.group })));
  for (const f of forced) warnings.push(`FORCED by request (${f.why}): binding ${f.bdf} although ${f.reasons.join('; ')}`);
  const vfioDisks = [...via.values()].filter((v) => v.via === 'vfio').length;
  const mode = vfioDisks === input.disks.length && input.disks.length > 0 ? 'vfio' : vfioDisks === 0 ? 'raw' : 'mixed';
  const passthrough: PlanPassthrough = { mode, devices, bind, groups, ...base, ...(forced.length > 0 ? { forced } : {}) };
  return { passthrough, via, warnings };
}
