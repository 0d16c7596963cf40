import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PartitionBackup } from '../protocol/index.js';
import { isENOENT } from '../protocol/index.js';

// Where a job keeps the partition tables it saved: <jobDir>/partition-backups/<index>.json.
const DIR = 'partition-backups';

// Stores a job's backups (each written to a temp file, then renamed: a crash never leaves half a backup).
export async function saveBackups(jobDir: string, backups: PartitionBackup[]): Promise<void> {
  const dir = join(jobDir, DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [i, b] of backups.entries()) {
    const tmp = join(dir, `.${i}.json.tmp`);
    await writeFile(tmp, JSON.stringify(b), { mode: 0o600 });
    await rename(tmp, join(dir, `${i}.json`));
  }
}

// A job's backups in disk order; [] when it saved none.
export async function readBackups(jobDir: string): Promise<PartitionBackup[]> {
  let names: string[];
  try {
    names = (await readdir(join(jobDir, DIR))).filter((n) => /^\d+\.json$/.test(n));
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
  names.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const out: PartitionBackup[] = [];
  for (const n of names) out.push(PartitionBackup.parse(JSON.parse(await readFile(join(jobDir, DIR, n), 'utf8'))));
  return out;
}
