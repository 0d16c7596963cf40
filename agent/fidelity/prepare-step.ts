import type { Plan } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import type { VmSpec } from '../vm/index.js';
import { mirroredHostDevices } from './pci-layout.js';
import { guestNetRecord } from './guest-nic.js';
import { prepareFidelity, type PrepareFidelityDeps } from './prepare.js';

// The VM's passed-through functions: at mirrored guest addresses (plus their topology) when the plan carries
// fidelity decisions, else where QEMU puts them.
export function hostDevicesOf(plan: Plan): Pick<VmSpec, 'hostDevices' | 'pciTopology'> {
  const devices = (plan.passthrough?.devices ?? []).map((d) => ({ bdf: d.bdf, ...(d.bootIndex !== undefined ? { bootIndex: d.bootIndex } : {}) }));
  if (!plan.fidelity || devices.length === 0) return { hostDevices: devices };
  const m = mirroredHostDevices(devices);
  return { hostDevices: m.hostDevices, pciTopology: m.pciTopology };
}

// The step that makes the VM look like the server (docs/fidelity.md): SMBIOS files, swtpm, answer medium, NIC,
// CPU model, passed-through devices at the host's addresses — added to the VM's settings. Its undo stops what
// it started (swtpm), which ends with the agent anyway.
export function prepareFidelityStep(deps: PrepareFidelityDeps): JobStep<{ spec: Partial<VmSpec> }> {
  return {
    name: 'prepare-fidelity',
    async run(ctx) {
      const { plan, request, dir, id } = ctx.job;
      const prepared = await prepareFidelity(plan, request, dir, id, deps);
      Object.assign(ctx.values.spec, prepared.spec, hostDevicesOf(plan));
      for (const note of prepared.notes) ctx.emit('booting', note);
      return () => prepared.release().catch((err: unknown) => ctx.log.warn({ err }, 'stopping swtpm failed'));
    },
    // swtpm ends with the agent; the guest's network namespace, veth and filter outlive it.
    async recover(job) {
      await deps.guestNet?.recover?.(job.id, guestNetRecord(job.dir));
    },
  };
}
