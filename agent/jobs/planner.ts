import { createHash } from 'node:crypto';
import type { DiskInfo, InstallRequestParsed, Inventory, Plan } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import { type PciContext, type PassthroughDecision, planPassthrough, resolveNics } from '../pci/index.js';
import { type FidelityInputs, pciFidelityFacts, planFidelity } from '../fidelity/index.js';

const MiB = 1024 * 1024;
// What the rescue system keeps for itself (agent, QEMU's own overhead, page cache) when sizing the VM.
export const HOST_RESERVE_MIB = 768;
const DEFAULT_MAX_MEMORY_MIB = 4096;

export interface PlanInputs {
  inventory: Inventory;
  accel: { accel: 'kvm' | 'tcg'; reason: string };
  // Resolves the request's disk selectors against the inventory (serial/WWN/path; refuses disks in use).
  resolveDisks: (selectors: InstallRequestParsed['disks'], disks: DiskInfo[]) => DiskInfo[];
  // Bytes of RAM the ISO will take when it is kept in RAM (rescue systems), 0 when on disk or already cached.
  isoRamBytes?: number;
  // The PCI side (devices, groups, protected set): with it, controllers are passed through by vfio-pci where
  // their IOMMU group allows (docs/devices.md); without it every disk goes raw, as before.
  pci?: PciContext;
  // Host facts and probes for the fidelity report (docs/fidelity.md); without them the plan has no `fidelity`.
  fidelity?: FidelityInputs;
}

// Computes the dry run of an install: which disks, firmware, accelerator, memory, and what to warn about.
export function makePlan(req: InstallRequestParsed, inputs: PlanInputs): Plan {
  const { inventory } = inputs;
  const disks = inputs.resolveDisks(req.disks, inventory.disks);
  const warnings: string[] = [];

  const firmware = req.vm.firmware === 'auto' ? inventory.firmware.mode : req.vm.firmware;
  if (firmware !== inventory.firmware.mode) {
    warnings.push(`firmware ${firmware} differs from the server's ${inventory.firmware.mode}: the installed system may not boot on the metal`);
  }

  let accel = inputs.accel.accel;
  let accelReason = inputs.accel.reason;
  if (req.vm.accel !== 'auto') {
    if (req.vm.accel === 'kvm' && inputs.accel.accel !== 'kvm') {
      warnings.push(`KVM requested although the probe said: ${inputs.accel.reason}`);
    }
    accel = req.vm.accel;
    accelReason = `requested (${req.vm.accel})`;
  }
  if (accel === 'tcg') warnings.push(`software emulation (TCG): the install will be slow; ${accelReason}`);

  const spare = Math.floor((inventory.memory.availableBytes - (inputs.isoRamBytes ?? 0)) / MiB) - HOST_RESERVE_MIB;
  const memoryMiB = req.vm.memoryMiB ?? Math.min(DEFAULT_MAX_MEMORY_MIB, spare);
  if (memoryMiB < 256) {
    throw new XepaError('ERR_NO_MEMORY', `not enough memory for the VM: ${spare} MiB can be spared after the ISO and a ${HOST_RESERVE_MIB} MiB reserve`);
  }
  if (memoryMiB > spare) {
    warnings.push(`${memoryMiB} MiB requested for the VM but only about ${spare} MiB can be spared: the rescue system may run out of memory`);
  }
  const cpus = req.vm.cpus ?? Math.max(1, Math.min(4, inventory.cpu.threads));

  let pt: PassthroughDecision | undefined;
  if (inputs.pci) {
    const nics = resolveNics(req.nics ?? [], inputs.pci.view.nics);
    pt = planPassthrough({ ...inputs.pci, disks, nics, mode: req.passthrough, ...(req.forceProtected ? { force: req.forceProtected } : {}) });
    warnings.push(...pt.warnings);
  } else if ((req.nics ?? []).length > 0) {
    throw new XepaError('ERR_NO_IOMMU', 'NIC passthrough needs the PCI view, which this agent does not read');
  } else {
    // The no-IOMMU path: disks are handed to QEMU as raw block devices (DESIGN §2), said out loud.
    warnings.push(
      inventory.iommu.enabled
        ? 'PCI passthrough is not available here: disks are given to the VM as raw block devices'
        : 'no IOMMU: disks are given to the VM as raw block devices, not by PCI passthrough',
    );
  }
  for (const d of disks) {
    if (!d.serial && !d.wwn) warnings.push(`${d.path} has no serial or WWN: it is identified by its /dev name only`);
  }

  const planned = disks.map((d) => ({
    path: d.path,
    name: d.name,
    sizeBytes: d.sizeBytes,
    via: pt?.via.get(d.name)?.via ?? ('raw' as const),
    ...(pt?.via.get(d.name)?.pciAddress ? { pciAddress: pt.via.get(d.name)!.pciAddress! } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    ...(d.wwn ? { wwn: d.wwn } : {}),
    ...(d.model ? { model: d.model } : {}),
  }));
  const iommu = inputs.pci?.view.iommu.enabled ?? inventory.iommu.enabled;
  const core = { disks: planned, firmware, accel, memoryMiB, cpus, diskBus: req.vm.diskBus, iommu, ...(pt ? { passthrough: pt.passthrough } : {}) };
  const vmBdfs = [...(pt?.passthrough.devices.map((d) => d.bdf) ?? []), ...disks.flatMap((d) => (d.pciAddress ? [d.pciAddress] : []))];
  const fid = inputs.fidelity && planFidelity(req, inventory, { ...inputs.fidelity, ...(inputs.pci ? pciFidelityFacts(inputs.pci.view, vmBdfs) : {}) }, {
    firmware, accel, memoryMiB, cpus, diskBus: req.vm.diskBus, rawDisks: planned.filter((d) => d.via === 'raw').length,
    passedNics: pt?.passthrough.devices.filter((d) => d.role === 'nic').length ?? 0, isoRamBytes: inputs.isoRamBytes ?? 0, reserveMiB: HOST_RESERVE_MIB,
    passthroughBdfs: pt?.passthrough.devices.map((d) => d.bdf) ?? [],
  });
  if (fid) warnings.push(...fid.warnings);
  const hash = createHash('sha256').update(JSON.stringify(fid ? { ...core, fidelity: fid.hashKey } : core)).digest('hex').slice(0, 32);
  return { hash, ...core, deadlineSeconds: req.vm.deadlineSeconds, accelReason, warnings, ...(fid ? { fidelity: fid.fidelity } : {}) };
}
