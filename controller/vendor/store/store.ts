// The vendor store on disk:
//   blobs/sha256/ab/<sha256>   every file once, read-only, named by its digest
//   index/<os>.json            the release index of one OS (written atomically)
//   configs/<os>/<host>/<name> per-host configs written by the operator (Ignition, Talos machine config, apkovl)
//   tmp/                       downloads and builds in progress (same filesystem: renames are atomic)
//   .lock                      held by the one process that changes indexes (updater, add, promote, rollback)
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { XepaError, hasErrno, isENOENT } from '../../../agent/protocol/index.js';
import { FILE_NAME, HOST_NAME, OS_NAME, isSafeName } from '../os/names.js';
import { writeFileAtomic } from './atomic-file.js';
import { BlobStore } from './blob-store.js';
import { ReleaseIndex, emptyIndex } from './release-index.js';

// Is the process alive? (signal 0 checks without signalling; EPERM means alive but not ours)
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasErrno(err, 'EPERM');
  }
}

// One store directory: blobs, indexes, configs.
export class Store {
  readonly blobs: BlobStore;

  constructor(readonly root: string, readonly clock: () => Date = () => new Date()) {
    this.blobs = new BlobStore(root);
  }

  // Creates the directories (idempotent).
  async init(): Promise<this> {
    for (const d of ['blobs/sha256', 'index', 'configs', 'tmp']) await fsp.mkdir(join(this.root, d), { recursive: true });
    return this;
  }

  private indexPath(os: string): string {
    if (!isSafeName(OS_NAME, os)) throw new XepaError('ERR_BAD_REQUEST', `not an OS name: ${os.slice(0, 40)}`);
    return join(this.root, 'index', `${os}.json`);
  }

  // The OS names that have an index.
  async listOs(): Promise<string[]> {
    const names = await fsp.readdir(join(this.root, 'index')).catch((err) => (isENOENT(err) ? [] : Promise.reject(err)));
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((n) => isSafeName(OS_NAME, n)).sort();
  }

  // Reads an OS's index (empty when it has none yet); a damaged index is ERR_STORE_CORRUPT, never guessed around.
  async readIndex(os: string): Promise<ReleaseIndex> {
    const p = this.indexPath(os);
    let text: string;
    try {
      text = await fsp.readFile(p, 'utf8');
    } catch (err) {
      if (isENOENT(err)) return emptyIndex(os, this.clock());
      throw err;
    }
    let parsed: ReturnType<typeof ReleaseIndex.safeParse>;
    try {
      parsed = ReleaseIndex.safeParse(JSON.parse(text));
    } catch (err) {
      throw new XepaError('ERR_STORE_CORRUPT', `the release index ${p} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (!parsed.success || parsed.data.os !== os) {
      throw new XepaError('ERR_STORE_CORRUPT', `the release index ${p} is damaged: ${parsed.success ? `it names ${parsed.data.os}` : parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }

  // Writes an OS's index atomically.
  async writeIndex(idx: ReleaseIndex): Promise<void> {
    await writeFileAtomic(this.indexPath(idx.os), JSON.stringify(idx, null, 2) + '\n');
  }

  // Read, change, write one index (the caller holds the lock).
  async updateIndex(os: string, change: (idx: ReleaseIndex) => ReleaseIndex): Promise<ReleaseIndex> {
    const next = change(await this.readIndex(os));
    await this.writeIndex(next);
    return next;
  }

  // Where a host's config for an OS lives (names are checked: no path can be built from them).
  configPath(os: string, host: string, name: string): string {
    if (!isSafeName(OS_NAME, os) || !isSafeName(HOST_NAME, host) || !isSafeName(FILE_NAME, name)) {
      throw new XepaError('ERR_BAD_REQUEST', 'bad OS, host or config name');
    }
    return join(this.root, 'configs', os, host, name);
  }

  // Takes the store's writer lock; a lock left by a dead process is taken over. Returns the release function.
  async lock(): Promise<() => Promise<void>> {
    const p = join(this.root, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await fsp.open(p, 'wx', 0o644);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return async () => void (await fsp.rm(p, { force: true }));
      } catch (err) {
        if (!hasErrno(err, 'EEXIST')) throw err;
        const pid = Number((await fsp.readFile(p, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
          throw new XepaError('ERR_STORE_LOCKED', `the store ${this.root} is being changed by process ${pid} (an update?); try again when it ends`, { details: { pid } });
        }
        await fsp.rm(p, { force: true }); // stale: its owner is gone
      }
    }
    throw new XepaError('ERR_STORE_LOCKED', `cannot take the lock of the store ${this.root}`);
  }
}
