import { XepaError } from '../protocol/index.js';

// Guest PCI addresses that mirror the host's (docs/fidelity.md): predictable interface names (enp3s0,
// enp0s31f6, eno1 via SMBIOS type 41) and /dev/disk/by-path names survive the move from the VM to the metal.

// Where one host function sits in the guest.
export interface GuestPlacement {
  hostBdf: string;
  bus: string; // QEMU bus id: pcie.0 or a root port's id
  addr: string; // slot.function on that bus, as QEMU's addr= takes it: 0x1f.6
  multifunction: boolean; // set on function 0 of a slot holding several functions
  guestBdf: string; // what the guest will see (firmware numbers buses depth-first, pxb-pcie roots by bus_nr)
  exact: boolean; // guestBdf === hostBdf
}

// The topology to create first (-device option strings, in order) and where each function goes.
export interface PciLayout {
  controllers: string[];
  placements: GuestPlacement[];
  notes: string[];
}

// Slots of q35's bus 0 that QEMU fills itself: host bridge 00.0, the VGA (first free slot, 01.0),
// ICH9 LPC 1f.0, AHCI 1f.2, SMBus 1f.3. 1f is multifunction, so 1f.6 (a typical onboard NIC) is free.
export const Q35_RESERVED: readonly string[] = ['00.0', '01.0', '1f.0', '1f.2', '1f.3'];

interface Bdf {
  text: string;
  domain: number;
  bus: number;
  slot: number;
  fn: number;
}

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
const devfnKey = (slot: number, fn: number): string => `${hex(slot, 2)}.${fn}`;

/**
 * Places host functions at guest addresses that mirror theirs. Pure.
 * - bus 0: the same slot.function on pcie.0 (unless QEMU's own devices hold it);
 * - bus B > 0, slot 0: behind a pcie-root-port whose secondary bus the firmware numbers B: root ports on
 *   pcie.0 for the run of buses starting at 1, a pxb-pcie with bus_nr B-1 for every later run of buses;
 * - functions of one host slot stay together in one guest slot (function 0 multifunction=on);
 * - what cannot be mirrored (another PCI domain, a non-zero slot behind a bridge, a reserved slot, a slot
 *   without its function 0) lands on a free pcie.0 slot, with a note saying why and what names change.
 */
export function mirrorPciLayout(hostBdfs: string[], reserved: readonly string[] = Q35_RESERVED): PciLayout {
  const fns = [...new Set(hostBdfs)].map(parseBdf).sort((a, b) => a.text.localeCompare(b.text));
  const notes: string[] = [];
  const used = new Set(reserved);
  const placements: GuestPlacement[] = [];
  const controllers: string[] = [];
  const fallback: Bdf[][] = [];

  const slots = groupBy(fns, (f) => `${f.domain}:${f.bus}:${f.slot}`);
  const onBus0: Bdf[][] = [];
  const behind = new Map<number, Bdf[]>(); // host bus -> functions at slot 0
  for (const group of slots) {
    const f0 = group[0]!;
    const why = f0.domain !== 0 ? `PCI domain ${hex(f0.domain, 4)}: the VM has one domain`
      : f0.bus > 0 && f0.slot !== 0 ? `slot ${hex(f0.slot, 2)} behind a bridge (only slot 0 sits behind a PCIe port)`
      : f0.bus === 0 && group.some((f) => used.has(devfnKey(f.slot, f.fn))) ? `00:${devfnKey(f0.slot, f0.fn)} is QEMU's own`
      : undefined;
    if (why) {
      notes.push(`${group.map((f) => f.text).join(', ')} not mirrored (${why}): interface and by-path names will differ`);
      fallback.push(group);
    } else if (f0.bus === 0) {
      onBus0.push(group);
      group.forEach((f) => used.add(devfnKey(f.slot, f.fn)));
    } else behind.set(f0.bus, group);
  }

  // On bus 0 a function other than 0 may join a slot whose function 0 is QEMU's (1f.6 beside ICH9's 1f.0).
  for (const group of onBus0) placeSlot(group, 'pcie.0', group[0]!.slot, 0, placements, notes, false, reserved.includes(devfnKey(group[0]!.slot, 0)));

  const freeSlots = (): number => {
    for (let s = 2; s < 0x1f; s++) if (![...Array(8).keys()].some((fn) => used.has(devfnKey(s, fn)))) return s;
    throw new XepaError('ERR_BAD_REQUEST', 'no free slot left on the VM\'s PCI bus 0 for the passed-through devices');
  };
  let chassis = 0;
  const rootPort = (parent: string, slot: number, fn: number, multi: boolean): string => {
    chassis++;
    controllers.push(`pcie-root-port,id=xrp${chassis},bus=${parent},chassis=${chassis},addr=${hex(slot, 2)}.${fn}${multi ? ',multifunction=on' : ''}`);
    return `xrp${chassis}`;
  };

  const buses = [...behind.keys()].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const b of buses) {
    const last = runs.at(-1);
    if (last && b === last.at(-1)! + 1) last.push(b);
    else runs.push([b]);
  }
  let pxb = 0;
  for (const run of runs) {
    let parent = 'pcie.0';
    let portSlot = 0;
    if (run[0] !== 1) {
      const slot = freeSlots();
      used.add(devfnKey(slot, 0));
      pxb++;
      parent = `xpxb${pxb}`;
      controllers.push(`pxb-pcie,id=${parent},bus=pcie.0,bus_nr=${run[0]! - 1},addr=${hex(slot, 2)}.0`);
      portSlot = 0;
    }
    // Root ports in devfn order: eight functions per slot, so firmware numbers them run[0], run[0]+1, ...
    run.forEach((bus, i) => {
      const fn = i % 8;
      // On pcie.0 each group of eight takes the lowest free slot (ascending, so the numbering holds).
      if (fn === 0) portSlot = parent === 'pcie.0' ? freeSlots() : Math.floor(i / 8);
      const slot = portSlot;
      if (parent === 'pcie.0') used.add(devfnKey(slot, fn));
      const port = rootPort(parent, slot, fn, fn === 0 && run.length - i > 1);
      placeSlot(behind.get(bus)!, port, 0, bus, placements, notes);
    });
  }

  for (const group of fallback) {
    const slot = freeSlots();
    group.forEach((_, i) => used.add(devfnKey(slot, i)));
    placeSlot(group, 'pcie.0', slot, 0, placements, notes, true);
  }
  return { controllers, placements, notes };
}

// Puts one host slot's functions in one guest slot; renumbers them from 0 when function 0 is missing.
function placeSlot(group: Bdf[], bus: string, slot: number, guestBus: number, out: GuestPlacement[], notes: string[], moved = false, f0Elsewhere = false): void {
  const keep = !moved && (group[0]!.fn === 0 || f0Elsewhere);
  if (!moved && !keep) notes.push(`${group.map((f) => f.text).join(', ')}: function 0 is not passed through, functions renumbered from 0 (a guest scans function 0 first)`);
  group.forEach((f, i) => {
    const fn = keep ? f.fn : i;
    const guestBdf = `0000:${hex(guestBus, 2)}:${hex(slot, 2)}.${fn}`;
    out.push({ hostBdf: f.text, bus, addr: `0x${hex(slot, 2)}.${fn}`, multifunction: fn === 0 && group.length > 1, guestBdf, exact: guestBdf === f.text });
  });
}

function parseBdf(text: string): Bdf {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i.exec(text);
  if (!m) throw new XepaError('ERR_BAD_REQUEST', `not a PCI address like 0000:03:00.0: ${JSON.stringify(text)}`);
  return { text: text.toLowerCase(), domain: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), slot: parseInt(m[3]!, 16), fn: Number(m[4]) };
}

function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const it of items) m.set(key(it), [...(m.get(key(it)) ?? []), it]);
  return [...m.values()];
}

/**
 * The passed-through functions with their mirrored guest placement, and the topology to create first
 * (VmSpec hostDevices + pciTopology). Pure.
 */
export function mirroredHostDevices<D extends { bdf: string }>(devices: D[]): { hostDevices: (D & { guest: { bus: string; addr: string; multifunction: boolean } })[]; pciTopology: string[]; notes: string[] } {
  if (devices.length === 0) return { hostDevices: [], pciTopology: [], notes: [] };
  const layout = mirrorPciLayout(devices.map((d) => d.bdf));
  const at = new Map(layout.placements.map((p) => [p.hostBdf, p]));
  const hostDevices = devices.map((d) => {
    const p = at.get(d.bdf.toLowerCase())!;
    return { ...d, guest: { bus: p.bus, addr: p.addr, multifunction: p.multifunction } };
  });
  return { hostDevices, pciTopology: layout.controllers, notes: layout.notes };
}
