// The updater: upstream -> candidate (verified) -> validation (check VMs of controller/qemu) -> stable; plus the boot ISO wrapper.
export { updateOs, addGivenRelease, validateAndPromote, type UpdaterDeps, type UpdateOptions } from './update.js';
export type { UpdateProgress, UpdateResult } from './progress.js';
export { validateRelease, type ValidationOutcome } from './validate.js';
export { buildBootIso, bootIsoGrubCfg, grubQuote } from './boot-iso.js';
export { BOOT_ISO_NAME, wrapBootIso } from './ingest.js';
