import type { ProtectedDevice } from '../protocol/index.js';
import type { CriticalNic } from './net-facts.js';
import type { PciView } from './types.js';

// Why a device must stay with the rescue system (DESIGN §2).
export interface Protection {
  kind: 'controller-nic' | 'default-route-nic' | 'disk-in-use' | 'boot-medium';
  text: string; // "the NIC eth0 carrying the controller connection"
  overridable: boolean; // forceProtected may bind it (never for the controller NIC or disks in use)
  group?: { group: number; member: string }; // set when inherited from another member of the IOMMU group
}

// Facts beyond the PCI view: the NICs networking rests on, the boot disks, whether the controller is known.
export interface ProtectionFacts {
  criticalNics: CriticalNic[];
  bootDisks: string[];
  controllerKnown: boolean; // false: the peer is unknown, so every default-route NIC may be the controller's
}

const nicText = (n: CriticalNic): string => {
  const below = n.via.length === 0 ? '' : `, a lower device of ${n.via[n.via.length - 1]}`;
  return n.kind === 'controller-nic' ? `the NIC ${n.name}${below} carrying the controller connection` : `the NIC ${n.name}${below} on the default route`;
};

// The protected set: every PCI function with its reasons, direct ones first, then those inherited from
// sharing an IOMMU group (binding a group takes every member away from the host).
export function computeProtectedSet(view: PciView, facts: ProtectionFacts): Map<string, Protection[]> {
  const out = new Map<string, Protection[]>();
  const add = (bdf: string | undefined, p: Protection): void => {
    if (bdf === undefined) return;
    const list = out.get(bdf) ?? [];
    if (!list.some((x) => x.text === p.text && x.group?.member === p.group?.member)) list.push(p);
    out.set(bdf, list);
  };
  const nicBdf = (name: string): string | undefined => view.nics.find((n) => n.name === name)?.pciAddress;
  for (const n of facts.criticalNics) {
    const overridable = n.kind === 'default-route-nic' && facts.controllerKnown;
    add(nicBdf(n.name), { kind: n.kind, text: nicText(n), overridable });
  }
  for (const d of view.disks) {
    if (d.inUse.length > 0) add(d.pciAddress, { kind: 'disk-in-use', text: `the controller of ${d.name} (${d.inUse.join(', ')})`, overridable: false });
    if (facts.bootDisks.includes(d.name)) add(d.pciAddress, { kind: 'boot-medium', text: `the controller of ${d.name}, the rescue system's boot medium`, overridable: true });
  }
  const direct = [...out.entries()].map(([bdf, ps]) => [bdf, ps.filter((p) => !p.group)] as const);
  const groupOf = new Map(view.devices.map((d) => [d.bdf, d.iommuGroup]));
  for (const [bdf, ps] of direct) {
    const g = groupOf.get(bdf);
    if (g === undefined) continue;
    for (const member of view.groups.get(g) ?? []) {
      if (member === bdf) continue;
      for (const p of ps) add(member, { kind: p.kind, text: p.text, overridable: p.overridable, group: { group: g, member: bdf } });
    }
  }
  return out;
}

// A protection as a person reads it: "IOMMU group 14 also contains 0000:01:00.1 (the NIC eth0 carrying ...)".
export function protectionText(p: Protection): string {
  return p.group ? `IOMMU group ${p.group.group} also contains ${p.group.member} (${p.text})` : p.text;
}

// The refusal for binding a protected device, naming the device and the first reason.
export function refusalText(bdf: string, ps: Protection[]): string {
  const first = ps.find((p) => !p.overridable) ?? ps[0]!;
  const why = first.group ? protectionText(first) : `it is ${first.text}`;
  const more = ps.length > 1 ? ` (and ${ps.length - 1} more reason${ps.length > 2 ? 's' : ''})` : '';
  return `cannot bind ${bdf} to vfio-pci: ${why}${more}`;
}

// The protected set as the plan carries it, in BDF order.
export function protectedList(view: PciView, set: Map<string, Protection[]>): ProtectedDevice[] {
  return [...set.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bdf, ps]) => {
      const fn = view.devices.find((d) => d.bdf === bdf);
      const entry: ProtectedDevice = { bdf, className: fn?.className ?? 'unknown', reasons: ps.map(protectionText), overridable: ps.every((p) => p.overridable) };
      if (fn?.driver !== undefined) entry.driver = fn.driver;
      if (fn?.iommuGroup !== undefined) entry.iommuGroup = fn.iommuGroup;
      return entry;
    });
}
