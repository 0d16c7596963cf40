// Opens a file under a root only if it really is there: the final component is not followed if it is a symlink
// (O_NOFOLLOW), every directory on the way resolves inside the root, and the result is a regular file.
import { constants, promises as fsp } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { XepaError } from '../../../agent/protocol/index.js';

// True when `child` is `root` or inside it.
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${'/'}`));
}

// Opens `path` for reading; anything outside `root`, a symlink or not a regular file is ERR_NOT_FOUND.
export async function openInside(root: string, path: string): Promise<{ fh: fsp.FileHandle; size: number }> {
  const notFound = (why: string, cause?: unknown): XepaError => new XepaError('ERR_NOT_FOUND', `not found (${why})`, cause ? { cause } : {});
  const [rootReal, dirReal] = await Promise.all([fsp.realpath(root), fsp.realpath(dirname(path)).catch(() => undefined)]);
  if (!dirReal) throw notFound('no such directory');
  if (!isInside(rootReal, dirReal)) throw notFound('outside the store');
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw notFound((err as NodeJS.ErrnoException).code ?? 'cannot open', err);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw notFound('not a regular file');
  }
  return { fh, size: st.size };
}
