import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { XepaError, hasErrno, isENOENT, redactUrl } from '../protocol/index.js';

// The files of one ISO in the destination directory: `<sha256>.iso.part` being written with its running SHA-256,
// its sidecar `<sha256>.iso.part.json` (where the bytes came from, for a resume), and the verified `<sha256>.iso`.

// What the partial bytes of `<sha256>.iso.part` were downloaded from. In memory `url` is the full URL the fetch
// uses; the sidecar on disk never holds it (see StoredPartState).
export interface PartState {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

// The sidecar as stored: the URL only redacted (for people) and as a SHA-256 (to recognise the same URL on
// resume), so signed query parameters and passwords never reach the disk; mode 0600 all the same.
export interface StoredPartState {
  source: string;
  urlSha256: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

// The digest by which a sidecar recognises the URL its bytes came from.
export const urlDigest = (url: string): string => createHash('sha256').update(url).digest('hex');

// Where one ISO lives in the destination directory, by digest.
export interface IsoPaths {
  final: string;
  part: string;
  state: string;
}

// The final, partial and sidecar paths of the ISO with this (lowercase) digest.
export function isoPaths(destDir: string, sha256: string): IsoPaths {
  const final = join(destDir, `${sha256}.iso`);
  return { final, part: `${final}.part`, state: `${final}.part.json` };
}

// Reads the sidecar; undefined when missing or unreadable (a broken sidecar only costs a fresh download, and so
// does one written by an older agent that stored the URL itself).
export async function readPartState(path: string): Promise<StoredPartState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.urlSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.urlSha256)) return undefined;
    const s: StoredPartState = { source: typeof v.source === 'string' ? v.source : '', urlSha256: v.urlSha256 };
    if (typeof v.etag === 'string') s.etag = v.etag;
    if (typeof v.lastModified === 'string') s.lastModified = v.lastModified;
    if (typeof v.total === 'number' && Number.isSafeInteger(v.total) && v.total >= 0) s.total = v.total;
    return s;
  } catch {
    return undefined;
  }
}

// Writes the sidecar atomically (temp file created exclusively with mode 0600, fsync, rename) so a crash leaves
// the old or the new one; the URL is stored redacted and as a digest, never as given.
export async function writePartState(path: string, s: PartState): Promise<void> {
  const { url, ...rest } = s;
  const stored: StoredPartState = { source: redactUrl(url), urlSha256: urlDigest(url), ...rest };
  const tmp = `${path}.tmp`;
  await removeIfExists(tmp); // a crash between create and rename leaves one behind
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(stored));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

// Deletes a file, ignoring that it is already gone.
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
}

// Streams a file through SHA-256 and returns the still-open hash (so a download can continue it) and the size.
// Throws `onAbort()` between chunks once the signal fires.
export async function hashFile(path: string, signal?: AbortSignal, onAbort?: () => Error): Promise<{ hash: Hash; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw onAbort ? onAbort() : new Error('aborted');
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } finally {
    stream.destroy();
  }
  return { hash, size };
}

// What a finished, verified download is.
export interface FinishedIso {
  path: string;
  sha256: string;
  size: number;
}

// The `<sha256>.iso.part` being written: its bytes, the running SHA-256 of exactly those bytes, and its sidecar.
// Invariant: `hash` always covers bytes [0, bytes) of the file, so the digest is known the moment the last byte lands.
export class PartFile {
  private constructor(
    private readonly paths: IsoPaths,
    private fh: FileHandle,
    private hash: Hash,
    public bytes: number,
    public state: PartState,
  ) {}

  // Opens the part for `url`: resumes a part whose sidecar names the same URL (re-hashing its bytes first),
  // otherwise starts an empty one.
  static async open(paths: IsoPaths, url: string, log: Logger, signal?: AbortSignal, onAbort?: () => Error): Promise<PartFile> {
    const stored = await readPartState(paths.state);
    if (stored && stored.urlSha256 === urlDigest(url)) {
      const state: PartState = { url };
      if (stored.etag !== undefined) state.etag = stored.etag;
      if (stored.lastModified !== undefined) state.lastModified = stored.lastModified;
      if (stored.total !== undefined) state.total = stored.total;
      try {
        const { hash, size } = await hashFile(paths.part, signal, onAbort);
        if (state.total === undefined || size <= state.total) {
          log.info({ bytes: size, total: state.total, etag: state.etag }, 'resuming partial download');
          return new PartFile(paths, await open(paths.part, 'r+'), hash, size, state);
        }
        log.warn({ bytes: size, total: state.total }, 'partial file longer than the file it came from; starting over');
      } catch (err) {
        if (!isENOENT(err)) throw err;
      }
    } else if (stored) {
      log.info({ was: stored.source }, 'partial file came from another URL; starting over');
    }
    const fresh: PartState = { url };
    await writePartState(paths.state, fresh);
    // Created exclusively with mode 0600: what a private URL serves may be private too.
    await removeIfExists(paths.part);
    return new PartFile(paths, await open(paths.part, 'wx', 0o600), createHash('sha256'), 0, fresh);
  }

  // Starts over from byte 0 with a new sidecar (new validator): truncates the file and the hash.
  async restart(state: PartState): Promise<void> {
    await this.fh.truncate(0);
    this.hash = createHash('sha256');
    this.bytes = 0;
    await this.setState(state);
  }

  // Records the validator/size of the file the bytes come from (written before any byte of it lands).
  async setState(state: PartState): Promise<void> {
    this.state = state;
    await writePartState(this.paths.state, state);
  }

  // Appends a chunk at the end, hashing it; a full disk is ERR_NO_SPACE.
  async append(chunk: Buffer): Promise<void> {
    let done = 0;
    try {
      while (done < chunk.length) {
        const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, this.bytes + done);
        done += bytesWritten;
      }
    } catch (err) {
      if (hasErrno(err, 'ENOSPC')) {
        throw new XepaError('ERR_NO_SPACE', `no space left writing ${this.paths.part} at byte ${this.bytes + done}`, { cause: err });
      }
      throw err;
    } finally {
      // Whatever reached the file is hashed, keeping the invariant even after a short write.
      this.hash.update(chunk.subarray(0, done));
      this.bytes += done;
    }
  }

  // Verifies the digest; on a match fsyncs and atomically renames to the final name, on a mismatch deletes the
  // part and its sidecar so the bytes can never be booted (ERR_FETCH_DIGEST).
  async finish(sha256: string, url: string): Promise<FinishedIso> {
    const actual = this.hash.digest('hex');
    if (actual !== sha256) {
      await this.discard();
      // The actual digest is never returned: it would let a caller learn the digest of any URL the agent can reach.
      throw new XepaError('ERR_FETCH_DIGEST', `sha256 of ${redactUrl(url)} does not match the expected ${sha256}; download deleted`, {
        details: { expected: sha256, size: this.bytes },
      });
    }
    await this.fh.sync();
    await this.fh.close();
    await rename(this.paths.part, this.paths.final);
    await syncDir(dirname(this.paths.final));
    await removeIfExists(this.paths.state);
    return { path: this.paths.final, sha256, size: this.bytes };
  }

  // Deletes the part and its sidecar (after a digest or size failure).
  async discard(): Promise<void> {
    await this.close();
    await removeIfExists(this.paths.part);
    await removeIfExists(this.paths.state);
  }

  // Closes the file (idempotent); the part and sidecar stay for a later resume.
  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

// fsync of the directory makes the rename itself durable.
async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
