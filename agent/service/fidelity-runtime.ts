import type { Sysfs } from '../host/index.js';
import type { JobRuntime } from '../jobs/index.js';
import type { InstallRequestParsed } from '../protocol/index.js';
import { findExecutable, prepareFidelity, probeCpuModel, readFidelityFacts, type CpuModelChoice, type FidelityInputs, type ToolRunner } from '../fidelity/index.js';
import { backupPartitionTable, saveBackups } from '../finish/index.js';
import { findOvmf } from '../vm/index.js';

// The job-side fidelity steps of the real runtime: SMBIOS files, swtpm, answer medium; partition backups.
export function fidelityRuntime(o: { sysfs: Sysfs; run: ToolRunner; smbiosFields?: string[] }): Pick<JobRuntime, 'prepareFidelity' | 'backupPartitionTables'> {
  return {
    prepareFidelity: (job) => prepareFidelity(job.plan, job.request, job.dir, job.id, { sysfs: o.sysfs, run: o.run, ...(o.smbiosFields ? { smbiosFields: o.smbiosFields } : {}) }),
    backupPartitionTables: async (jobDir, plan) => {
      const saved = [];
      for (const d of plan.disks.filter((x) => x.via === 'raw' || x.via === 'vfio')) {
        saved.push(await backupPartitionTable({ path: d.path, sizeBytes: d.sizeBytes, serial: d.serial, wwn: d.wwn }, { run: o.run }));
      }
      await saveBackups(jobDir, saved);
      return saved.map((b) => ({ disk: b.disk, ...(b.serial ? { serial: b.serial } : {}), ...(b.sfdisk ? { sfdisk: b.sfdisk } : {}) }));
    },
  };
}

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
