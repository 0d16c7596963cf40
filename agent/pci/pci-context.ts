import os from 'node:os';
import type { Procfs, Sysfs } from '../host/index.js';
import { readBootDisks } from './boot-medium.js';
import { type ControllerPeer, readCriticalNics } from './net-facts.js';
import type { PciIds } from './pci-ids.js';
import { readPciView } from './pci-view.js';
import { type Protection, computeProtectedSet } from './protected-set.js';
import type { PciView } from './types.js';

// What the planner gets from the PCI side: the machine and its protected set.
export interface PciContext {
  view: PciView;
  protections: Map<string, Protection[]>;
}

// The roots and sources readPciContext reads; real defaults for all but sysfs/procfs.
export interface PciContextDeps {
  sysfs: Sysfs;
  procfs: Procfs;
  devRoot?: string;
  ids?: PciIds;
  networkInterfaces?: typeof os.networkInterfaces;
}

// Reads the PCI view and computes the protected set for a controller seen at `peers` (the control
// connection's ends); with no peers every default-route NIC counts as the controller's.
export async function readPciContext(deps: PciContextDeps, peers: ControllerPeer[]): Promise<PciContext> {
  const networkInterfaces = deps.networkInterfaces ?? os.networkInterfaces;
  const [view, criticalNics, bootDisks] = await Promise.all([
    readPciView({ sysfs: deps.sysfs, procfs: deps.procfs, networkInterfaces, ...(deps.ids ? { ids: deps.ids } : {}) }),
    readCriticalNics({ sysfs: deps.sysfs, procfs: deps.procfs, networkInterfaces }, peers),
    readBootDisks(deps.sysfs, deps.procfs, deps.devRoot),
  ]);
  const controllerKnown = peers.some((p) => p.remote !== undefined || p.local !== undefined);
  return { view, protections: computeProtectedSet(view, { criticalNics, bootDisks, controllerKnown }) };
}
