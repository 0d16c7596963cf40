import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isENOENT } from '../protocol/index.js';

// How far binding got for one device; restore undoes whatever is past `recorded`.
export type BindStep = 'recorded' | 'override' | 'unbound' | 'bound';

// One device as it was before XEPA touched it.
export interface JournalEntry {
  bdf: string;
  group: number;
  originalDriver: string | null; // null: no driver was bound
  originalOverride: string | null; // null: driver_override was "(null)"
  step: BindStep;
}

// The vfio journal of one job: written before the first sysfs write, updated after each, removed once
// every device is back. A leftover journal at agent start means a crash: it is restored first.
export interface VfioJournal {
  version: 1;
  job: string;
  createdAt: string;
  devices: JournalEntry[];
}

// The directory holding the journals: <stateDir>/vfio.
export const journalDir = (stateDir: string): string => path.join(stateDir, 'vfio');

// The journal path of a job.
export const journalPath = (stateDir: string, job: string): string => path.join(journalDir(stateDir), `${job}.json`);

// Writes the journal atomically: a temp file, fsync, rename over the old one, fsync the directory;
// a crash at any point leaves either the old or the new journal, never a torn one.
export async function writeJournal(file: string, journal: VfioJournal): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(journal, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

// Reads a journal; undefined when it does not exist.
export async function readJournal(file: string): Promise<VfioJournal | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as VfioJournal;
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
}

// Removes a journal once everything in it is restored.
export async function removeJournal(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

// Every journal left in the state dir (leftover temp files are ignored: the rename never happened).
export async function listJournals(stateDir: string): Promise<string[]> {
  try {
    const names = await fs.readdir(journalDir(stateDir));
    return names.filter((n) => n.endsWith('.json')).sort().map((n) => path.join(journalDir(stateDir), n));
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
}
