import { readFile } from 'node:fs/promises';
import type { Sysfs } from '../host/index.js';
import type { InstallRequestParsed, RescueNetwork } from '../protocol/index.js';
import { toWireError } from '../protocol/index.js';
import { readRescueNetwork } from '../landing/index.js';
import { createToolRunner } from './run-tool.js';
import { findOvmf } from '../vm/index.js';
import { probeCpuModel, type CpuModelChoice } from './cpu-model.js';
import type { FidelityInputs } from './fidelity-plan.js';
import { findExecutable, readFidelityFacts } from './host-facts.js';

/**
 * The plan's fidelity inputs, read fresh for each plan: host SMBIOS, TPM, swtpm, an OVMF Secure Boot build,
 * the CPU model QEMU can run (the KVM probe result is kept: it does not change while the agent runs), and the
 * rescue system's live network (what finish carries into the installed system by default).
 */
export function fidelityInputs(o: { sysfs: Sysfs; fsRoot?: string; rescueNetwork?: () => Promise<RescueNetwork> }): (req: InstallRequestParsed, accel: 'kvm' | 'tcg') => Promise<FidelityInputs> {
  const rescueNetwork = o.rescueNetwork ?? (() => readRescueNetwork({ run: createToolRunner(), readFile: (p) => readFile(p, 'utf8').catch(() => undefined) }));
  const probes = new Map<string, Promise<CpuModelChoice>>();
  return async (req, accel) => {
    const key = `${accel}/${req.vm.cpuModel}`;
    if (!probes.has(key)) probes.set(key, probeCpuModel(accel, req.vm.cpuModel));
    const [facts, cpu, ovmf, landing] = await Promise.all([
      readFidelityFacts({ sysfs: o.sysfs, findExecutable: (n) => findExecutable(n) }),
      probes.get(key)!,
      findOvmf(o.fsRoot ?? '/', { secureBoot: true }).catch(() => undefined),
      rescueNetwork().then((rescue) => ({ rescue }), (err: unknown) => ({ problem: toWireError(err).message })),
    ]);
    return { facts, cpu, secureBootBuild: ovmf?.kind === 'split' && ovmf.secureBoot, landing };
  };
}
