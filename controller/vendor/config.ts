// The vendor config file: where the store is, extra module files, and per-module overrides (upstream bases,
// validation) — how tests point a module at a fake upstream and how operators point one at a mirror.
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { XepaError, isENOENT } from '../../agent/protocol/index.js';

// Per-module overrides, merged over the module before it is validated.
export const ModuleOverride = z
  .object({
    bases: z.record(z.string()).optional(), // replaces the named upstream bases
    validation: z.record(z.unknown()).optional(), // merged into the module's validation (replaced if `kind` differs)
    disabled: z.boolean().optional(), // hides the module from the catalog and the updater
    // the policy: the lowest validation level that promotes (default `install`; `boot` for a mirror known to be
    // incomplete, where the installer cannot finish)
    promoteAt: z.enum(['install', 'boot']).optional(),
  })
  .strict();
export type ModuleOverride = z.infer<typeof ModuleOverride>;

// The whole config file (JSON).
export const VendorConfig = z
  .object({
    store: z.string().optional(),
    modulesDir: z.string().optional(),
    publicUrl: z.string().url().optional(), // the base URL hosts reach this server at (iPXE scripts, catalog links)
    modules: z.record(ModuleOverride).default({}),
  })
  .strict();
export type VendorConfig = z.infer<typeof VendorConfig>;

// Where the config lives: the flag, $XEPA_VENDOR_CONFIG, else $XEPA_HOME/vendor.json (or ~/.config/xepa/vendor.json).
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (env.XEPA_VENDOR_CONFIG) return env.XEPA_VENDOR_CONFIG;
  return join(env.XEPA_HOME || join(home, '.config', 'xepa'), 'vendor.json');
}

// Where the store lives: the flag, the config, $XEPA_STORE, else $XDG_DATA_HOME/xepa/store (~/.local/share/xepa/store).
export function defaultStoreDir(config: VendorConfig, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return config.store ?? env.XEPA_STORE ?? join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'xepa', 'store');
}

// Reads the config; a missing file is an empty config only when `required` is false (the default path).
export async function loadVendorConfig(path: string, required: boolean): Promise<VendorConfig> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err) && !required) return VendorConfig.parse({});
    throw new XepaError('ERR_CONFIG', `cannot read the vendor config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new XepaError('ERR_CONFIG', `the vendor config ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = VendorConfig.safeParse(raw);
  if (!parsed.success) {
    throw new XepaError('ERR_CONFIG', `the vendor config ${path} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
