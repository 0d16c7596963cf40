// Opens what every vendor command and the server work with: the config, the store and the loaded modules.
import { defaultConfigPath, defaultStoreDir, loadVendorConfig, type VendorConfig } from './config.js';
import { loadModules, type LoadedModules } from './os/load.js';
import { Store } from './store/index.js';

// The opened vendor environment.
export interface VendorContext {
  config: VendorConfig;
  configPath: string;
  store: Store;
  loaded: LoadedModules;
}

// Where to look (flags win over the environment, which wins over defaults).
export interface OpenVendorOptions {
  configPath?: string | undefined; // explicit: must exist
  storeDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  log?: (fields: Record<string, unknown>, msg: string) => void;
  clock?: () => Date;
}

// Reads the config, opens (creates) the store, loads and validates the modules; broken modules are in loaded.errors.
export async function openVendor(o: OpenVendorOptions = {}): Promise<VendorContext> {
  const env = o.env ?? process.env;
  const configPath = o.configPath ?? defaultConfigPath(env);
  const config = await loadVendorConfig(configPath, o.configPath !== undefined || env.XEPA_VENDOR_CONFIG !== undefined);
  const store = await new Store(o.storeDir ?? defaultStoreDir(config, env), o.clock).init();
  const loaded = await loadModules({ dir: config.modulesDir, overrides: config.modules, ...(o.log ? { log: o.log } : {}) });
  return { config, configPath, store, loaded };
}
