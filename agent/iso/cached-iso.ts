import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { type XepaError, isENOENT } from '../protocol/index.js';
import { type FinishedIso, type IsoPaths, hashFile, removeIfExists } from './part-file.js';

// An existing `<sha256>.iso` is trusted only after hashing it again (it may have been tampered with or torn);
// returns it when it matches, otherwise deletes it and returns undefined so it is downloaded anew.
export async function reuseFinal(
  paths: IsoPaths,
  sha: string,
  size: number | undefined,
  log: Logger,
  signal: AbortSignal | undefined,
  cancelled: () => XepaError,
): Promise<FinishedIso | undefined> {
  try {
    await stat(paths.final);
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
  const { hash, size: actualSize } = await hashFile(paths.final, signal, cancelled);
  const actual = hash.digest('hex');
  if (actual === sha && (size === undefined || size === actualSize)) {
    log.info({ path: paths.final, size: actualSize }, 'existing ISO re-verified, reusing it');
    return { path: paths.final, sha256: sha, size: actualSize };
  }
  log.warn({ path: paths.final, actual, size: actualSize }, 'existing ISO does not match, deleting it');
  await removeIfExists(paths.final);
  return undefined;
}
