import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { XepaError, hasErrno, isENOENT, redactUrl } from '../protocol/index.js';
import { hashFile } from './hash-file.js';
import { type IsoPaths, type PartState, readPartState, removeIfExists, urlDigest, writePartState } from './part-state.js';

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
