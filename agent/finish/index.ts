// Finish: the move from the VM to the metal (docs/fidelity.md): partition-table backups, UEFI boot entries,
// the finish report.
export { backupPartitionTable, restorePartitionTable, fileDiskIo, type DiskIo } from './partition-backup.js';
export { RAW_END_BYTES, MAX_GZ_BASE64, checkBackupBounds, backupDigest, inflateCapped, type Inflate } from './backup-check.js';
export { openRestoreTarget, type OpenRestoreTarget, type RestoreTarget } from './restore-target.js';
export { chooseRestore, type RestoreJob, type RestoreRequest } from './restore-guard.js';
export { saveBackups, readBackups } from './backup-store.js';
export { findEsps, readEsps, listEfiFiles, chooseLoader, ESP_GPT_TYPE, FALLBACK_LOADER, type EspPartition, type LoaderChoice } from './esp.js';
export { parseEfibootmgr, entryMatches, orderWith, type BootEntry, type BootState } from './efibootmgr.js';
export { reconcileEfiBoot, type EfiOutcome } from './efi-reconcile.js';
export { finishJob, type FinishableJob, type FinishDeps } from './finish-job.js';
export { bootCheckInVm, checkFirmware, type BootCheckDeps } from './boot-check.js';
export { backupPartitionTablesStep, saveTablesWith, type SavedTable } from './backup-step.js';
