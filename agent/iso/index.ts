// ISO delivery (DESIGN §4): resumable, verified URL fetch and the space/RAM budget it is checked against.
// Read in this order: fetch-step.ts (the job step) → fetch.ts (the run: retries, progress, verify) → attempt.ts
// (one resume request and the decision on its answer) → http-get.ts (one GET, its errors and watchdog) →
// address-guard.ts; beside them part-file.ts (the .part, its sidecar, hashing), cached-iso.ts, budget.ts, and the
// firmware check: el-torito.ts (the pure boot catalog reader) → boot-firmware.ts (the file, the refusal).
export { fetchIsoStep, type FetchedIso } from './fetch-step.js';
export { fetchIso, defaultBackoff, type FetchIsoDeps, type FetchIsoRequest, type FetchIsoResult, type FetchProgress } from './fetch.js';
export { checkBudget, fsTypeOf, parseMemAvailable, formatBytes, type BudgetIo, type BudgetReport, type BudgetRequest, type FsStats } from './budget.js';
export { type HttpRequestFn } from './http-get.js';
export { isoPaths, type IsoPaths } from './part-file.js';
export { localAddressRule, guardedLookup } from './address-guard.js';
export { readBootCatalog, bootFirmwares, type BootCatalog, type BootEntry, type BootPlatform, type ReadAt } from './el-torito.js';
export { readIsoBootCatalog, checkBootFirmware, describeBootCatalog, cachedIsoFirmwareCheck } from './boot-firmware.js';
