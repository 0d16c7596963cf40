// The content-addressed part of the store: every file lives once, at blobs/sha256/<2 hex>/<64 hex>, read-only.
// Writes go to tmp/ first and are hashed while written; a blob appears under its name only when complete and synced.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { XepaError, isENOENT } from '../../../agent/protocol/index.js';
import { fsyncDir } from './atomic-file.js';
import { openInside } from './safe-open.js';

const HEX64 = /^[0-9a-f]{64}$/;

// A blob's identity.
export interface BlobRef {
  sha256: string;
  size: number;
}

// A file being written into the store: hashed (sha256 and sha512) as it is written.
export interface BlobWriter {
  readonly tmpPath: string;
  write(chunk: Uint8Array): Promise<void>;
  readonly size: number;
  // Hex digests of what was written so far (call once, after the last write).
  digests(): { sha256: string; sha512: string };
  // Syncs and moves the file to its content address; returns its identity.
  commit(): Promise<BlobRef>;
  // Throws the temporary file away.
  abort(): Promise<void>;
}

// Hashes a whole file.
export async function hashFile(path: string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<{ hex: string; size: number }> {
  const h = createHash(algorithm);
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hex: h.digest('hex'), size };
}

// The blob area of a store rooted at `root`.
export class BlobStore {
  constructor(readonly root: string) {}

  // The path of a blob (the digest is checked: nothing else can become a path).
  blobPath(sha256: string): string {
    if (!HEX64.test(sha256)) throw new XepaError('ERR_BAD_REQUEST', `not a sha256 digest: ${sha256.slice(0, 80)}`);
    return join(this.root, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  // The directory for in-progress writes (same filesystem as the blobs, so the final rename is atomic).
  tmpDir(): string {
    return join(this.root, 'tmp');
  }

  // Starts writing a new blob.
  async openWriter(): Promise<BlobWriter> {
    await fsp.mkdir(this.tmpDir(), { recursive: true });
    const tmpPath = join(this.tmpDir(), `${process.pid}-${randomBytes(6).toString('hex')}.part`);
    const fh = await fsp.open(tmpPath, 'wx', 0o644);
    const h256: Hash = createHash('sha256');
    const h512: Hash = createHash('sha512');
    let size = 0;
    let closed = false;
    let sums: { sha256: string; sha512: string } | undefined;
    const close = async (): Promise<void> => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    return {
      tmpPath,
      get size() {
        return size;
      },
      write: async (chunk) => {
        h256.update(chunk);
        h512.update(chunk);
        size += chunk.length;
        await fh.write(chunk);
      },
      digests: () => (sums ??= { sha256: h256.digest('hex'), sha512: h512.digest('hex') }),
      commit: async () => {
        const { sha256 } = (sums ??= { sha256: h256.digest('hex'), sha512: h512.digest('hex') });
        await fh.sync();
        await close();
        await this.place(tmpPath, sha256, size);
        return { sha256, size };
      },
      abort: async () => {
        await close();
        await fsp.rm(tmpPath, { force: true });
      },
    };
  }

  // Moves a complete file (already in tmp/) to its content address after hashing it.
  async ingestFile(path: string): Promise<BlobRef> {
    const { hex, size } = await hashFile(path);
    const fh = await fsp.open(path, 'r');
    await fh.sync().finally(() => fh.close());
    await this.place(path, hex, size);
    return { sha256: hex, size };
  }

  private async place(tmpPath: string, sha256: string, size: number): Promise<void> {
    const dest = this.blobPath(sha256);
    await fsp.mkdir(dirname(dest), { recursive: true });
    const existing = await fsp.lstat(dest).catch((err) => (isENOENT(err) ? undefined : Promise.reject(err)));
    if (existing?.isFile() && existing.size === size) {
      await fsp.rm(tmpPath, { force: true }); // same content already stored
      return;
    }
    if (existing) await fsp.rm(dest, { force: true }); // a damaged copy (or a planted symlink): replace it
    await fsp.chmod(tmpPath, 0o444);
    await fsp.rename(tmpPath, dest);
    await fsyncDir(dirname(dest));
  }

  // Recomputes a blob's digest: ok when it matches its name (and the expected size, if given).
  async verify(sha256: string, size?: number): Promise<{ ok: boolean; reason?: string }> {
    const p = this.blobPath(sha256);
    const st = await fsp.lstat(p).catch((err) => (isENOENT(err) ? undefined : Promise.reject(err)));
    if (!st) return { ok: false, reason: 'missing' };
    if (!st.isFile()) return { ok: false, reason: 'not a regular file' };
    const h = await hashFile(p);
    if (h.hex !== sha256) return { ok: false, reason: `content hashes to ${h.hex}` };
    if (size !== undefined && h.size !== size) return { ok: false, reason: `size ${h.size}, index says ${size}` };
    return { ok: true };
  }

  // Opens a blob for reading, refusing anything but a regular file that really lives inside the store.
  async open(sha256: string): Promise<{ fh: fsp.FileHandle; size: number }> {
    return openInside(this.root, this.blobPath(sha256));
  }
}
