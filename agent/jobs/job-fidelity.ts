import type { KeyStep, Plan } from '../protocol/index.js';
import { toWireError } from '../protocol/index.js';
import { mirroredHostDevices, runKeyScript } from '../fidelity/index.js';
import type { VmSpec } from '../vm/index.js';
import type { JobRuntime, RunningVmHandle } from './runtime.js';

// The fidelity and move-to-metal steps of an install job (docs/fidelity.md), kept beside install-job.ts.

// Saves the target disks' partition tables before anything can write them; the event carries the sfdisk dumps.
export async function backupStep(rt: JobRuntime, dir: string, plan: Plan): Promise<{ message: string; detail: Record<string, unknown> } | undefined> {
  if (!rt.backupPartitionTables) return undefined;
  const saved = await rt.backupPartitionTables(dir, plan);
  const list = saved.map((s) => `${s.disk} (${s.sfdisk ? 'partition table' : 'no partition table'})`).join(', ');
  return { message: `saved before the install: ${list}; xepa finish fetches them (job.backup)`, detail: { partitionTables: saved } };
}

// Types the request's boot-menu keystrokes through the VM's QMP in the background; reports how it went.
export function typeBootKeys(keys: KeyStep[] | undefined, vm: RunningVmHandle, signal: AbortSignal, report: (message: string) => void): void {
  const qmp = vm.qmp;
  if (!keys?.length) return;
  if (!qmp) return report('boot-menu keystrokes skipped: this runtime has no QMP connection');
  void runKeyScript(keys, {
    qmp: (command, args) => qmp.execute(command, args),
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)),
    signal,
  }).then(
    (n) => report(`boot-menu keystrokes typed (${n} key press(es))`),
    (err: unknown) => report(`boot-menu keystrokes stopped: ${toWireError(err).message}`),
  );
}

// The VM's passed-through functions: at mirrored guest addresses (plus their topology) when the plan
// carries fidelity decisions, else where QEMU puts them.
export function hostDevicesOf(plan: Plan): Pick<VmSpec, 'hostDevices' | 'pciTopology'> {
  const devices = (plan.passthrough?.devices ?? []).map((d) => ({ bdf: d.bdf, ...(d.bootIndex !== undefined ? { bootIndex: d.bootIndex } : {}) }));
  if (!plan.fidelity || devices.length === 0) return { hostDevices: devices };
  const m = mirroredHostDevices(devices);
  return { hostDevices: m.hostDevices, pciTopology: m.pciTopology };
}
