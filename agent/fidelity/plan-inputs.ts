import type { Sysfs } from '../host/index.js';
import type { InstallRequestParsed } from '../protocol/index.js';
import { findOvmf } from '../vm/index.js';
import { probeCpuModel, type CpuModelChoice } from './cpu-model.js';
import type { FidelityInputs } from './fidelity-plan.js';
import { findExecutable, readFidelityFacts } from './host-facts.js';

/**
 * The plan's fidelity inputs, read fresh for each plan: host SMBIOS, TPM, swtpm, an OVMF Secure Boot build,
 * and the CPU model QEMU can run (the KVM probe result is kept: it does not change while the agent runs).
 */
export function fidelityInputs(o: { sysfs: Sysfs; fsRoot?: string }): (req: InstallRequestParsed, accel: 'kvm' | 'tcg') => Promise<FidelityInputs> {
  const probes = new Map<string, Promise<CpuModelChoice>>();
  return async (req, accel) => {
    const key = `${accel}/${req.vm.cpuModel}`;
    if (!probes.has(key)) probes.set(key, probeCpuModel(accel, req.vm.cpuModel));
    const [facts, cpu, ovmf] = await Promise.all([
      readFidelityFacts({ sysfs: o.sysfs, findExecutable: (n) => findExecutable(n) }),
      probes.get(key)!,
      findOvmf(o.fsRoot ?? '/', { secureBoot: true }).catch(() => undefined),
    ]);
    return { facts, cpu, secureBootBuild: ovmf?.kind === 'split' && ovmf.secureBoot };
  };
}
