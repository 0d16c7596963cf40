import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FileChange } from '../protocol/index.js';
import { XepaError, hasErrno, isENOENT } from '../protocol/index.js';

const MAX_HOPS = 40; // as the kernel's path walk (ELOOP)

/**
 * An installed system's root tree, opened from the rescue system: every path is resolved inside the root,
 * symlinks included (an absolute link target means the installed system's /, never the rescue system's), so
 * nothing read or written here can reach outside it.
 */
export class RootTree {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  // The host path of `rel` with every symlink resolved inside the root; the last component is followed too
  // unless `follow` is false. A component that does not exist ends the walk (the rest is appended as is).
  async resolve(rel: string, follow = true): Promise<string> {
    let parts = splitRel(rel);
    let done: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const name = parts.shift()!;
      if (name === '..') {
        done.pop();
        continue;
      }
      const host = path.join(this.root, ...done, name);
      const st = await fs.lstat(host).catch((err: unknown) => (isENOENT(err) || hasErrno(err, 'ENOTDIR') ? undefined : Promise.reject(err)));
      if (!st) return path.join(this.root, ...done, name, ...parts);
      if (st.isSymbolicLink() && (follow || parts.length > 0)) {
        if (++hops > MAX_HOPS) throw new XepaError('ERR_CONFIG', `too many symbolic links under ${rel} in the installed system`);
        const target = await fs.readlink(host);
        if (target.startsWith('/')) done = [];
        parts = [...splitRel(target), ...parts];
        continue;
      }
      done.push(name);
    }
    return path.join(this.root, ...done);
  }

  // A file's text, or undefined when it (or a directory on its way) does not exist.
  async readText(rel: string): Promise<string | undefined> {
    try {
      return await fs.readFile(await this.resolve(rel), 'utf8');
    } catch (err) {
      if (isENOENT(err) || hasErrno(err, 'ENOTDIR') || hasErrno(err, 'EISDIR')) return undefined;
      throw err;
    }
  }

  // Whether `rel` exists (symlinks followed inside the root).
  async exists(rel: string): Promise<boolean> {
    return fs.stat(await this.resolve(rel)).then(() => true, () => false);
  }

  // The names in a directory ([] when it does not exist).
  async list(rel: string): Promise<string[]> {
    return (await fs.readdir(await this.resolve(rel)).catch(() => [] as string[])).sort();
  }

  // What `rel` itself is: a symlink (with its target), a file, a directory, or nothing.
  async kind(rel: string): Promise<{ type: 'link'; target: string } | { type: 'file' | 'dir' | 'other' } | undefined> {
    const host = await this.resolve(rel, false);
    const st = await fs.lstat(host).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) return { type: 'link', target: await fs.readlink(host) };
    return { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other' };
  }

  /**
   * Writes a file into the installed system (directories created 0755 as needed), atomically: a temp file in
   * the same directory renamed over the name, so a symlink at the name is replaced, never written through.
   * Returns the change with digests; an identical file is left alone ('unchanged').
   */
  async writeFile(rel: string, content: string, mode: number, why: string): Promise<FileChange> {
    const dirHost = await this.resolve(path.posix.dirname(toPosix(rel)));
    const name = path.posix.basename(toPosix(rel));
    const target = path.join(dirHost, name);
    const digest = sha256(content);
    const before = await fs.lstat(target).catch(() => undefined);
    const old = before?.isFile() ? await fs.readFile(target) : undefined;
    const change = (action: FileChange['action']): FileChange => ({
      path: `/${splitRel(rel).join('/')}`,
      action,
      mode: `0${(mode & 0o7777).toString(8)}`,
      bytes: Buffer.byteLength(content),
      sha256: digest,
      ...(old && action === 'replaced' ? { previousSha256: sha256(old) } : {}),
      why,
    });
    if (old && sha256(old) === digest && ((before!.mode & 0o7777) === mode)) return change('unchanged');
    if (before?.isDirectory()) throw new XepaError('ERR_CONFIG', `cannot write ${rel} in the installed system: a directory is there`);
    await fs.mkdir(dirHost, { recursive: true, mode: 0o755 });
    const tmp = path.join(dirHost, `.${name}.xepa-${process.pid}`);
    await fs.writeFile(tmp, content, { mode, flag: 'wx' });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, target);
    return change(before ? 'replaced' : 'created');
  }
}

// The SHA-256 of a file's bytes, hex.
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function toPosix(rel: string): string {
  return `/${splitRel(rel).join('/')}`;
}

function splitRel(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}
