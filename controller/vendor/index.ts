// Vendor Services (DESIGN §7): OS modules, the content-addressed store, the updater, the catalog and its server.
export { openVendor, type VendorContext, type OpenVendorOptions } from './context.js';
export { VendorConfig, defaultConfigPath, defaultStoreDir, loadVendorConfig } from './config.js';
export { loadModules, type LoadedModules, type ModuleError } from './os/load.js';
export { BUILTIN_MODULES } from './os/builtin.js';
export { OsModule, type OsModuleInput } from './os/schema.js';
export { CHANNELS, isChannel, type Channel } from './os/names.js';
export * from './store/index.js';
export * from './updater/index.js';
export { startVendorMount, createVendorHandler, type VendorMount } from './server/index.js';
export { buildCatalog, installIsoName } from './catalog/build.js';
export { fileUrl, ipxeUrl, configUrl } from './catalog/urls.js';
export { CatalogDoc, type CatalogOs, type CatalogRelease } from './catalog/schema.js';
export { resolveOsSpec, parseOsSpec, type ResolvedIso } from './catalog/resolve.js';
