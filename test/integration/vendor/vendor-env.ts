// The environment the vendor integration tests share: the test ISO, a fake upstream, a store, a config that points
// the Talos and generic modules at the fake, and the CLI run in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestIso, type TestIso } from '../../../build/test-iso/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { Store } from '../../../controller/vendor/index.js';
import { captureOutput } from '../../support/capture.js';
import { BOOT_MARKER } from './fake-releases.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

// One test environment.
export interface VendorEnv {
  work: string;
  iso: TestIso;
  up: FakeUpstream;
  storeDir: string;
  configPath: string;
  store: Store;
  vendor(args: string[]): Promise<{ code: number; out: string; err: string }>;
}

// Validation settings for the fakes: talos boots to BOOT_MARKER (a boot-level validation: its policy accepts boot);
// generic installs and boots to the test ISO's marker (install level, the default policy).
export function testConfig(upBase: string, iso: TestIso, talosValidation: Record<string, unknown> = {}, genericValidation?: Record<string, unknown>): unknown {
  return {
    modules: {
      talos: { bases: { api: `${upBase}/api`, files: `${upBase}/download` }, promoteAt: 'boot', validation: talosValidation.kind ? talosValidation : { marker: BOOT_MARKER, timeoutSeconds: 150, memoryMiB: 512, ...talosValidation } },
      generic: { validation: genericValidation ?? { kind: 'iso-install', bootMarker: iso.marker, installTimeoutSeconds: 170, bootTimeoutSeconds: 170, diskMiB: 128, memoryMiB: 512 } },
      nixos: { disabled: true },
      flatcar: { disabled: true },
      alpine: { disabled: true },
      freebsd: { disabled: true },
      debian: { disabled: true },
    },
  };
}

// Builds the environment (the test ISO is cached after its first build).
export async function makeVendorEnv(prefix: string, config?: (upBase: string, iso: TestIso) => unknown): Promise<VendorEnv> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const iso = await ensureTestIso({});
  const up = await startFakeUpstream();
  const storeDir = join(work, 'store');
  const configPath = join(work, 'vendor.json');
  writeFileSync(configPath, JSON.stringify((config ?? testConfig)(up.base, iso), null, 2));
  const store = await new Store(storeDir).init();
  const vendor = async (args: string[]) => {
    const o = captureOutput();
    const code = await runCli(['vendor', ...args, '--store', storeDir, '--vendor-config', configPath], o);
    return { code, out: o.stdout(), err: o.stderr() };
  };
  return { work, iso, up, storeDir, configPath, store, vendor };
}
