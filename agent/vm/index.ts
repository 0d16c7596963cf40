// The VM: QEMU arguments (pure), firmware lookup, accelerator probe and the QEMU supervisor.
export type { BiosFirmware, UefiSplitFirmware, UefiUnifiedFirmware, VmDisk, VmFirmware, VmHostDevice, VmSpec } from './vm-spec.js';
export type { VmAnswerMedium, VmNic, VmSmbios } from './vm-spec.js';
export { buildQemuArgs, escapeQemuOpt } from './qemu-args.js';
export { findOvmf, prepareUefiVars, OVMF_SEARCH_PATHS } from './firmware.js';
export type { OvmfFiles } from './firmware.js';
export { probeAccel } from './accel.js';
export type { AccelChoice, ProbeAccelOptions } from './accel.js';
export { findQemuBinary, QEMU_BINARY_NAME } from './qemu-binary.js';
export { startVm, STDERR_TAIL_LINES } from './supervisor.js';
export type { RunningVm, StartVmDeps, VmExit } from './supervisor.js';
export { GuestNetworks, type GuestNetwork, type GuestNetworksDeps, type NetToolRunner } from './guest-net.js';
export { guestNetNames, guestNetRules, forwardGuardRules, FORWARD_GUARD_TABLE, GUEST_NET_SLOTS, type GuestNetNames } from './guest-net-rules.js';
export { ANSWER_URL_HOST } from './fidelity-args.js';
export { bootVmStep, realStartVm, VM_STOP_GRACE_MS, type BootVmDeps, type VmValues } from './boot-step.js';
export { waitVmStep, type VmEndValues } from './wait-step.js';
export { vmPaths, type RunningVmHandle, type VmExitInfo } from './vm-handle.js';
export { vmOutcome, type EndOn } from './vm-outcome.js';
export { stopOrphanVm, QEMU_PID_FILE, type OrphanVmDeps } from './orphan-vms.js';
