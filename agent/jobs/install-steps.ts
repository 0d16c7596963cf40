import type { Logger } from 'pino';
import { prepareFidelityStep, typeBootKeysStep, type GuestNetIsolator, type ToolRunner } from '../fidelity/index.js';
import { backupPartitionTablesStep, saveTablesWith, type SavedTable } from '../finish/index.js';
import { Sysfs, claimDisksStep, disksBackStep } from '../host/index.js';
import { fetchIsoStep, type FetchedIso } from '../iso/index.js';
import type { DiskInfo, Plan } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import { bindVfioStep, type VfioDeps } from '../vfio/index.js';
import { GuestNetworks, bootVmStep, waitVmStep, type BootVmDeps, type VmEndValues } from '../vm/index.js';

/** What the steps of an install hand on to each other. */
export type InstallValues = FetchedIso & VmEndValues;

/** The roots the install's steps work with; tests replace the effects they cannot have (real by default). */
export interface InstallStepDeps {
  log: Logger;
  isoDir: string;
  // ISO URLs to loopback and link-local addresses (agent option allowLocalIsoUrls).
  allowLocalIsoUrls?: boolean;
  listDisks: () => Promise<DiskInfo[]>;
  sysfs?: Sysfs;
  // sfdisk and friends: partition-table backups before binding, answer media. Without it no backup is made.
  run?: ToolRunner;
  // The vfio journal's home and sysfs; without it plans that bind devices are refused.
  vfio?: VfioDeps;
  // Per-job network namespaces for the guest's emulated NIC (default: GuestNetworks with `run`).
  guestNet?: GuestNetIsolator;
  // Extra `-smbios type=...` strings on top of the host's (tests, operators).
  smbiosFields?: string[];
  fetch?: Parameters<typeof fetchIsoStep>[0]['fetch'];
  backup?: (jobDir: string, plan: Plan) => Promise<SavedTable[]>;
  claim?: Parameters<typeof claimDisksStep>[0];
  bind?: Parameters<typeof bindVfioStep>[1];
  startVm?: BootVmDeps['startVm'];
  prepareFirmware?: BootVmDeps['prepareFirmware'];
}

// The install, step by step (docs/install-job.md). The runner unwinds in reverse, so the disks-back check,
// first here, runs last: after the VM stopped, swtpm ended, raw disks were let go and devices went back.
export function installSteps(d: InstallStepDeps): JobStep<InstallValues>[] {
  const { log } = d;
  return [
    disksBackStep(d.listDisks),
    fetchIsoStep({ isoDir: d.isoDir, allowLocalAddresses: d.allowLocalIsoUrls === true, ...(d.fetch ? { fetch: d.fetch } : {}) }),
    ...(d.backup || d.run ? [backupPartitionTablesStep(d.backup ?? saveTablesWith(d.run!))] : []),
    bindVfioStep(d.vfio, d.bind),
    claimDisksStep(d.claim),
    prepareFidelityStep({
      sysfs: d.sysfs ?? new Sysfs(),
      run: d.run ?? unavailableRunner,
      ...(d.run || d.guestNet ? { guestNet: d.guestNet ?? new GuestNetworks({ run: d.run! }) } : {}),
      ...(d.smbiosFields ? { smbiosFields: d.smbiosFields } : {}),
    }),
    bootVmStep({ log, ...(d.startVm ? { startVm: d.startVm } : {}), ...(d.prepareFirmware ? { prepareFirmware: d.prepareFirmware } : {}) }),
    typeBootKeysStep(),
    waitVmStep(),
  ];
}

// A runtime built without tools: answer media and the like fail naming the cause.
const unavailableRunner: ToolRunner = async (tool) => ({ code: 127, stdout: '', stderr: `${tool}: no tool runner in this agent runtime` });
