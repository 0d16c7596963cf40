// ISO delivery (DESIGN §4): resumable, verified URL fetch and the space/RAM budget it is checked against.
export { fetchIso, type FetchIsoDeps, type FetchIsoRequest, type FetchIsoResult } from './fetch.js';
export { checkBudget, fsTypeOf, parseMemAvailable, type BudgetIo, type BudgetReport, type BudgetRequest, type FsStats } from './budget.js';
export { type FetchProgress } from './progress.js';
export { defaultBackoff } from './backoff.js';
export { type HttpRequestFn } from './http-get.js';
export { isoPaths, type IsoPaths } from './part-state.js';
export { formatBytes } from './format.js';
export { localAddressRule, guardedLookup } from './address-guard.js';
export { fetchIsoStep, type FetchedIso } from './fetch-step.js';
