// The updater: upstream -> candidate (verified) -> validation -> stable; plus the boot ISO wrapper.
export { updateOs, addGivenRelease, validateAndPromote, type UpdaterDeps, type UpdateOptions } from './update.js';
export type { UpdateProgress, UpdateResult } from './progress.js';
export { validateRelease, type ValidationOutcome } from './validate.js';
export { buildBootIso, bootIsoGrubCfg, grubQuote } from './boot-iso.js';
export { BOOT_ISO_NAME, wrapBootIso } from './ingest.js';
export { runQemu, type QemuRunResult } from './qemu-run.js';
export { kernelBootArgs, isoBootArgs, diskBootArgs } from './qemu-args.js';
