import type { ErrorCode, PlanGroup, PlanGroupMember } from '../protocol/index.js';
import { type Protection, protectionText, refusalText } from './protected-set.js';
import type { PciFunction, PciView } from './types.js';

// Why a group cannot be taken: the code a request gets and the message naming the device and the reason.
export interface GroupRefusal {
  code: ErrorCode;
  message: string;
}

// The verdict on one IOMMU group for a set of target functions.
export interface GroupVerdict {
  report: PlanGroup;
  bind: string[]; // endpoints to bind to vfio-pci (the whole group, bridges excepted)
  refusal?: GroupRefusal;
  forced: { bdf: string; reasons: string[] }[];
}

// What evaluateGroup needs besides the view.
export interface GroupCheckInput {
  view: PciView;
  protections: Map<string, Protection[]>;
  targets: string[]; // functions the VM gets, all in this group
  requestedDisks: Set<string>; // disk names the request names (a target must not carry others)
  force?: string; // forceProtected reason: binds members protected only for overridable reasons
}

// Bridge-class functions with a normal header (host bridge 0x0600, ISA/LPC bridge 0x0601 ...) are platform
// devices: left alone when driverless (vfio accepts unbound group members), a refusal when a driver holds them.
const isPlatformBridge = (fn: PciFunction): boolean => fn.headerType === 'endpoint' && /^(0x)?06/i.test(fn.classCode);

// Decides whether a group can go to vfio-pci whole: every endpoint unprotected (or forced), no platform
// device with a driver, and each target carrying only disks the request names.
export function evaluateGroup(group: number, input: GroupCheckInput): GroupVerdict {
  const { view, protections } = input;
  const members = view.groups.get(group) ?? input.targets;
  const report: PlanGroupMember[] = [];
  const bind: string[] = [];
  const forced: GroupVerdict['forced'] = [];
  let refusal: GroupRefusal | undefined;
  const block = (code: ErrorCode, message: string): void => {
    refusal ??= { code, message };
  };
  // Targets first, so a refusal names what was asked for; the report keeps the group's order.
  for (const bdf of [...input.targets, ...members.filter((m) => !input.targets.includes(m))]) {
    const fn = view.devices.find((d) => d.bdf === bdf);
    const base = { bdf, className: fn?.className ?? 'unknown', ...(fn?.driver !== undefined ? { driver: fn.driver } : {}) };
    const isTarget = input.targets.includes(bdf);
    if (!fn) {
      report.push({ ...base, action: 'blocked', note: 'not found in /sys/bus/pci/devices' });
      block('ERR_DEVICE_NOT_FOUND', `cannot bind ${bdf} to vfio-pci: it is not in /sys/bus/pci/devices`);
      continue;
    }
    if (fn.headerType === 'bridge' || fn.headerType === 'cardbus') {
      const note = 'PCI bridge: stays on its driver (vfio-pci binds endpoints only)';
      report.push({ ...base, action: isTarget ? 'blocked' : 'leave', note });
      if (isTarget) block('ERR_BAD_REQUEST', `cannot bind ${bdf} to vfio-pci: it is a PCI bridge; only endpoints are passed through`);
      continue;
    }
    if (isPlatformBridge(fn) && !isTarget) {
      if (fn.driver === undefined) {
        report.push({ ...base, action: 'leave', note: `${fn.className} without a driver: left alone` });
      } else {
        const msg = `IOMMU group ${group} also contains ${bdf} (${fn.className} on ${fn.driver}), a platform device XEPA never unbinds`;
        report.push({ ...base, action: 'blocked', note: msg });
        block('ERR_IOMMU_GROUP_SHARED', `cannot bind ${input.targets.join(', ')} to vfio-pci: ${msg}`);
      }
      continue;
    }
    // A member's protection inherited from a target is the target's own problem, reported there.
    const ps = (protections.get(bdf) ?? []).filter((p) => isTarget || !(p.group && input.targets.includes(p.group.member)));
    if (ps.length > 0) {
      const mayForce = input.force !== undefined && ps.every((p) => p.overridable);
      if (mayForce) {
        forced.push({ bdf, reasons: ps.map(protectionText) });
        report.push({ ...base, action: 'bind', note: `FORCED (${input.force}): ${ps.map(protectionText).join('; ')}` });
        bind.push(bdf);
      } else {
        report.push({ ...base, action: 'blocked', note: `protected: ${ps.map(protectionText).join('; ')}` });
        block('ERR_DEVICE_PROTECTED', refusalText(isTarget ? bdf : input.targets[0]!, isTarget ? ps : ps.map((p) => inherit(p, group, bdf))));
      }
      continue;
    }
    const stray = isTarget ? fn.disks.filter((d) => !input.requestedDisks.has(d)) : [];
    if (stray.length > 0) {
      const msg = `cannot pass ${bdf} through: it also carries ${stray.join(', ')}, which the request does not name (name every disk on the controller, or use raw disks)`;
      report.push({ ...base, action: 'blocked', note: `also carries ${stray.join(', ')}` });
      block('ERR_BAD_REQUEST', msg);
      continue;
    }
    const note = isTarget
      ? `given to the VM${fn.disks.length ? ` (${fn.disks.join(', ')})` : ''}${fn.nics.length ? ` (${fn.nics.join(', ')})` : ''}`
      : `bound with its group, not given to the VM${fn.disks.length ? `; ${fn.disks.join(', ')} leave the host meanwhile` : ''}`;
    report.push({ ...base, action: 'bind', note });
    bind.push(bdf);
  }
  report.sort((a, b) => members.indexOf(a.bdf) - members.indexOf(b.bdf));
  const reason = refusal?.message ?? (forced.length > 0 ? `isolatable only by force: ${input.force}` : 'every endpoint can be bound to vfio-pci');
  return { report: { group, isolatable: refusal === undefined, reason, members: report }, bind, forced, ...(refusal ? { refusal } : {}) };
}

// A member's own protection seen from the target: "IOMMU group N also contains <member> (<why>)".
function inherit(p: Protection, group: number, member: string): Protection {
  return p.group ? p : { ...p, group: { group, member } };
}
