import type { Plan } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import type { MachineSnapshot } from './snapshot.js';

// One fact a plan rests on: the object (a disk by its identity, a PCI function, an IOMMU group), which aspect of
// it, and its value in the snapshot the plan was made from.
export interface PlanFact {
  subject: string; // "disk serial S5P2NG0R100002", "PCI device 0000:02:00.0", "IOMMU group 3"
  aspect: string; // presence, path, size, controller, ids, IOMMU group, members, state
  value: string;
}

// A fact that no longer holds: what it was when the plan was made, what a fresh snapshot says.
export interface PlanChange {
  subject: string;
  aspect: string;
  was: string;
  now: string;
}

const ABSENT = 'absent';
const PRESENT = 'present';

type PlannedDisk = Plan['disks'][number];

// A planned disk is found again by its serial and WWN when it has them (its /dev name may move), else by name.
const diskSubject = (d: PlannedDisk): string => (d.serial ? `disk serial ${d.serial}` : d.wwn ? `disk wwn ${d.wwn}` : `disk ${d.name}`);
const sameDisk = (d: PlannedDisk, now: MachineSnapshot['inventory']['disks'][number]): boolean =>
  d.serial === undefined && d.wwn === undefined ? now.name === d.name : (d.serial === undefined || now.serial === d.serial) && (d.wwn === undefined || now.wwn === d.wwn);

// What `plan` relied on, read from `snap`: each planned disk (where it is, its size, the controller it sits
// behind), each PCI function the plan binds or passes through (its ids and IOMMU group), each such group's
// members, and whether there is an IOMMU. Called with the plan's own snapshot and again with a fresh one.
export function planBasis(plan: Plan, snap: MachineSnapshot): PlanFact[] {
  const facts: PlanFact[] = [];
  const fact = (subject: string, aspect: string, value: string): void => void facts.push({ subject, aspect, value });
  for (const d of plan.disks) {
    const subject = diskSubject(d);
    const now = snap.inventory.disks.find((x) => sameDisk(d, x));
    fact(subject, 'presence', now ? PRESENT : ABSENT);
    if (!now) continue;
    fact(subject, 'path', now.path);
    fact(subject, 'size', `${now.sizeBytes} bytes`);
    fact(subject, 'controller', now.pciAddress ?? 'none (not behind PCI)');
  }
  const pt = plan.passthrough;
  const functions = new Map((snap.pci?.view.devices ?? []).map((f) => [f.bdf, f]));
  const bdfs = [...new Set([...(pt?.bind.map((b) => b.bdf) ?? []), ...(pt?.devices.map((d) => d.bdf) ?? [])])].sort();
  for (const bdf of bdfs) {
    const subject = `PCI device ${bdf}`;
    const fn = functions.get(bdf);
    fact(subject, 'presence', fn ? PRESENT : ABSENT);
    if (!fn) continue;
    fact(subject, 'ids', `${fn.vendorId}:${fn.deviceId} class ${fn.classCode}`);
    fact(subject, 'IOMMU group', fn.iommuGroup === undefined ? 'none' : String(fn.iommuGroup));
  }
  const groups = [...new Set([...(pt?.bind.map((b) => b.group) ?? []), ...(pt?.devices.map((d) => d.iommuGroup) ?? [])])].sort((a, b) => a - b);
  for (const g of groups) fact(`IOMMU group ${g}`, 'members', (snap.pci?.view.groups.get(g) ?? []).join(', ') || 'none');
  fact('the IOMMU', 'state', (snap.pci?.view.iommu.enabled ?? snap.inventory.iommu.enabled) ? 'on' : 'off');
  return facts;
}

// The facts of `before` that `after` no longer states alike; an object that vanished is one change, not one per aspect.
export function planChanges(before: PlanFact[], after: PlanFact[]): PlanChange[] {
  const now = new Map(after.map((f) => [`${f.subject}\0${f.aspect}`, f.value]));
  const gone = new Set<string>();
  const out: PlanChange[] = [];
  for (const f of before) {
    if (gone.has(f.subject)) continue;
    const value = now.get(`${f.subject}\0${f.aspect}`) ?? ABSENT;
    if (value === f.value) continue;
    if (f.aspect === 'presence' && value === ABSENT) gone.add(f.subject);
    out.push({ subject: f.subject, aspect: f.aspect, was: f.value, now: value });
  }
  return out;
}

// A change for people: "disk serial AAA vanished", "disk serial AAA: controller was 0000:02:00.0, is now 0000:05:00.0".
export function changeText(c: PlanChange): string {
  if (c.aspect === 'presence') return c.now === ABSENT ? `${c.subject} vanished` : `${c.subject} appeared`;
  return `${c.subject}: ${c.aspect} was ${c.was}, is now ${c.now}`;
}

// Refuses (ERR_PLAN_CHANGED, naming each change) when a fresh snapshot no longer states what `plan` relied on.
export function assertPlanHolds(earlier: { plan: Plan; basis: PlanFact[] }, fresh: MachineSnapshot): void {
  const changes = planChanges(earlier.basis, planBasis(earlier.plan, fresh));
  if (changes.length === 0) return;
  throw new XepaError('ERR_PLAN_CHANGED', `the machine changed since the plan was made: ${changes.map(changeText).join('; ')}; plan again and review it`, {
    details: { expected: earlier.plan.hash, changes },
  });
}
