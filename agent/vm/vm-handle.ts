import type { QmpClient } from '../qmp/index.js';
import { QEMU_PID_FILE } from './orphan-vms.js';

// How the VM ended (the supervisor's VmExit, as the job sees it).
export interface VmExitInfo {
  code: number | null;
  signal: string | null;
  shutdownReason?: string;
  stderrTail: string[];
}

// A started VM as an install job drives it: its exit, a way to stop it, and the guest events it reports.
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

// Where a job's VM keeps its consoles and logs: unix sockets and files in the job directory, the agent's only.
export function vmPaths(jobDir: string): { vnc: string; qmp: string; serial: [string, string]; serialLogs: [string, string]; pidFile: string } {
  const at = (f: string): string => `${jobDir}/${f}`;
  return {
    vnc: at('vnc.sock'),
    qmp: at('qmp.sock'),
    serial: [at('serial0.sock'), at('serial1.sock')],
    serialLogs: [at('serial0.log'), at('serial1.log')],
    pidFile: at(QEMU_PID_FILE), // an agent restarted after a crash stops the VM it left (orphan-vms.ts)
  };
}
