import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Sysfs } from '../host/index.js';
import { entryPointKind, parseSmbiosTable, selectIdentityStructures } from './smbios-table.js';

// What the host offers the VM's fidelity: its SMBIOS table, its TPM, and the tools that emulate them.
export interface FidelityFacts {
  smbios: { table?: Buffer; entryPoint?: '32' | '64'; identityTypes: number[]; problem?: string };
  tpm: 'none' | '1.2' | '2.0';
  swtpm?: string; // path of the swtpm binary when installed
}

// Finds an executable by name on PATH (plus the sbin directories root has); undefined when absent.
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

// TPM version from sysfs: tpm_version_major (Linux >= 5.6), else 1.2 devices are the ones with `pcrs`.
export async function readHostTpm(sysfs: Sysfs): Promise<FidelityFacts['tpm']> {
  if (!(await sysfs.exists('class/tpm/tpm0'))) return 'none';
  const major = await sysfs.readAttr('class/tpm/tpm0/tpm_version_major');
  if (major === '2') return '2.0';
  if (major === '1') return '1.2';
  return (await sysfs.exists('class/tpm/tpm0/device/pcrs')) || (await sysfs.exists('class/tpm/tpm0/pcrs')) ? '1.2' : '2.0';
}

// Reads the host's SMBIOS table and entry point; a table that does not parse is reported, never thrown.
export async function readHostSmbios(sysfs: Sysfs): Promise<FidelityFacts['smbios']> {
  const table = await sysfs.readBytes('firmware/dmi/tables/DMI');
  if (!table || table.length === 0) return { identityTypes: [], problem: 'the host exposes no SMBIOS table (/sys/firmware/dmi/tables/DMI)' };
  const entryPoint = entryPointKind(await sysfs.readBytes('firmware/dmi/tables/smbios_entry_point'));
  try {
    const types = [...new Set(selectIdentityStructures(parseSmbiosTable(table)).map((s) => s.type))];
    return { table, identityTypes: types, ...(entryPoint ? { entryPoint } : {}) };
  } catch (err) {
    return { identityTypes: [], problem: `the host's SMBIOS table does not parse: ${(err as Error).message}` };
  }
}

// Everything above, read once per plan.
export async function readFidelityFacts(deps: { sysfs: Sysfs; findExecutable?: (name: string) => Promise<string | undefined> }): Promise<FidelityFacts> {
  const find = deps.findExecutable ?? ((n: string) => findExecutable(n));
  const [smbios, tpm, swtpm] = await Promise.all([readHostSmbios(deps.sysfs), readHostTpm(deps.sysfs), find('swtpm')]);
  return { smbios, tpm, ...(swtpm ? { swtpm } : {}) };
}
