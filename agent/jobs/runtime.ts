import type { Logger } from 'pino';
import type { Plan } from '../protocol/index.js';
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
}

// Everything an install job does to the outside world, injected so the job runs against fakes in unit tests.
export interface JobRuntime {
  log: Logger;
  now: () => Date;
  fetchIso(
    iso: { url: string; sha256: string; size?: number | undefined },
    opts: { signal: AbortSignal; reserveBytes: number; onProgress: (p: { bytes: number; total?: number | undefined }) => void },
  ): Promise<{ path: string; sha256: string; size: number; reused: boolean }>;
  prepareFirmware(mode: 'bios' | 'uefi', jobDir: string): Promise<VmFirmware>;
  startVm(spec: VmSpecInput): Promise<RunningVmHandle>;
  // Takes the disks for this job (exclusively) and gives back how to let go of them.
  claimDisks(job: string, paths: string[]): Promise<{ release(): Promise<void> }>;
  // After the VM: every planned disk present again (by serial when it has one); returns the problems found.
  verifyDisks(plan: Plan): Promise<string[]>;
}
