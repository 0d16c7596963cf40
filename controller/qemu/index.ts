// The controller's one QEMU runner: argv builders for check VMs, a supervised run to a serial marker, a disk boot check.
export { diskBootArgs, escapeQemuValue, isoBootArgs, kernelBootArgs, type CheckAccel } from './args.js';
export { runQemu, type QemuRunOptions, type QemuRunResult } from './run.js';
export { bootDiskUntilMarker, type BootCheckOptions, type BootCheckResult } from './boot-disk.js';
