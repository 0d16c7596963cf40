import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmSmbios } from '../vm/index.js';
import { parseSmbiosTable, selectIdentityStructures } from './smbios-table.js';

/**
 * Copies the host's identity structures into <jobDir>/smbios, one structure per file (the form every QEMU
 * accepts for `-smbios file=`; a file's type replaces QEMU's own structure of that type), and returns
 * the VM's SMBIOS. The table is copied, never handed to QEMU from /sys: the job keeps what the VM was given.
 */
export async function writeSmbiosFiles(table: Buffer, jobDir: string, entryPoint?: '32' | '64', fields: string[] = []): Promise<VmSmbios> {
  const dir = join(jobDir, 'smbios');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'host-DMI.bin'), table, { mode: 0o600 });
  const files: string[] = [];
  const structures = selectIdentityStructures(parseSmbiosTable(table));
  for (const [i, s] of structures.entries()) {
    const file = join(dir, `${String(i).padStart(2, '0')}-type${s.type}.bin`);
    await writeFile(file, s.bytes, { mode: 0o600 });
    files.push(file);
  }
  return { files, ...(fields.length ? { fields } : {}), ...(entryPoint === '64' ? { entryPoint } : {}) };
}
