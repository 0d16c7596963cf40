import type { Logger } from 'pino';
import type { InstallRequestParsed, Plan } from '../protocol/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { VmFirmware, VmSpec } from '../vm/index.js';


// The VM as the job describes it; the vm capability turns it into QEMU arguments.
export type VmSpecInput = VmSpec;

export interface VmExitInfo {
  code: number | null;
  signal: string | null;
  shutdownReason?: string;
  stderrTail: string[];
}

// A started VM: its exit, a way to stop it, and the guest events the job reports.
export interface RunningVmHandle {
  pid: number;
  exited: Promise<VmExitInfo>;
  stop(graceMs?: number): Promise<VmExitInfo>;
  onGuestEvent?(fn: (event: string, data: unknown) => void): void;
  // Moves the CD-ROM after the disks in the boot order; takes effect at the guest's next reset.
  demoteCdrom?(): Promise<void>;
  // The supervisor's QMP connection (the only one), shared with the consoles (agent/console).
  qmp?: QmpClient;
}

// Everything an install job does to the outside world, injected so the job runs against fakes in unit tests.
export interface JobRuntime {
  log: Logger;
  now: () => Date;
  fetchIso(
    iso: { url: string; sha256: string; size?: number | undefined },
    opts: { signal: AbortSignal; reserveBytes: number; onProgress: (p: { bytes: number; total?: number | undefined }) => void },
  ): Promise<{ path: string; sha256: string; size: number; reused: boolean }>;
  prepareFirmware(mode: 'bios' | 'uefi', jobDir: string, opts?: { secureBoot?: boolean }): Promise<VmFirmware>;
  startVm(spec: VmSpecInput): Promise<RunningVmHandle>;
  // Takes the disks for this job (exclusively) and gives back how to let go of them.
  claimDisks(job: string, paths: string[]): Promise<{ release(): Promise<void> }>;
  // After the VM: every planned disk present again (by serial when it has one); returns the problems found.
  verifyDisks(plan: Plan): Promise<string[]>;
  // Fidelity (docs/fidelity.md): SMBIOS files, swtpm, answer medium, NIC, CPU model for the VmSpec;
  // release() stops what it started (swtpm). Optional: without it the VM gets QEMU's defaults.
  prepareFidelity?(job: { id: string; dir: string; plan: Plan; request: InstallRequestParsed }): Promise<{
    spec: Partial<Pick<VmSpec, 'cpuModel' | 'smbios' | 'tpm' | 'nics' | 'answerMedia'>>;
    notes: string[];
    release(): Promise<void>;
  }>;
  // Saves the target disks' partition tables in the job directory before anything writes them.
  backupPartitionTables?(jobDir: string, plan: Plan): Promise<{ disk: string; serial?: string; sfdisk?: string }[]>;
  // Binds PCI functions (whole IOMMU groups) to vfio-pci with a journal written first; release() restores
  // them (always, whatever ended the job) and throws ERR_VFIO_RESTORE naming what did not come back.
  // Optional: a runtime without it can only run raw plans.
  bindVfio?(job: string, devices: { bdf: string; group: number }[]): Promise<{ release(): Promise<void> }>;
}
