import type { ToolRunner } from '../fidelity/index.js';
import { XepaError } from '../protocol/index.js';
import { ROOT_FS } from './fs-probe.js';
import type { DiskPart } from './installed-root.js';

// What mounting needs: the tool runner (mount, umount, modprobe) and a reader of /proc/filesystems.
export interface MountDeps {
  run: ToolRunner;
  procFilesystems: () => Promise<string>;
}

// Whether this kernel mounts `fstype`; loads its module once when it is missing. Throws ERR_CONFIG otherwise.
export async function ensureKernelFs(fstype: string, deps: MountDeps): Promise<'built in or loaded' | 'module loaded now'> {
  const has = async (): Promise<boolean> => (await deps.procFilesystems()).split('\n').some((l) => l.trim().split(/\s+/).pop() === fstype);
  if (await has()) return 'built in or loaded';
  const r = await deps.run('modprobe', [fstype]).catch((err: unknown) => ({ code: -1, stdout: '', stderr: (err as Error).message }));
  if (await has()) return 'module loaded now';
  throw new XepaError('ERR_CONFIG', `this rescue kernel cannot mount ${fstype}: not in /proc/filesystems and modprobe ${fstype} failed${r.stderr.trim() ? ` (${r.stderr.trim().split('\n').at(-1)})` : ''}`);
}

// The mount options: read-only without journal replay (nothing is written before finish decides to), or rw.
export function mountArgs(part: DiskPart, dir: string, mode: 'ro' | 'rw'): string[] {
  const fstype = ROOT_FS[part.fs];
  if (!fstype) throw new XepaError('ERR_CONFIG', `${part.name} holds ${part.fs}, not a filesystem finish opens`);
  const opts: string[] = [mode];
  if (mode === 'ro') {
    if (fstype === 'ext4') opts.push('noload'); // no journal replay: a read-only look writes nothing
    if (fstype === 'xfs') opts.push('norecovery');
  }
  const src = part.node ?? part.disk;
  if (!part.node) opts.push('loop', ...(part.number > 0 ? [`offset=${part.offsetBytes}`, `sizelimit=${part.sizeBytes}`] : []));
  return ['-t', fstype, '-o', opts.join(','), src, dir];
}

// Mounts a partition at dir (an empty private directory).
export async function mountPart(part: DiskPart, dir: string, mode: 'ro' | 'rw', deps: MountDeps): Promise<void> {
  const args = mountArgs(part, dir, mode);
  const r = await deps.run('mount', args);
  if (r.code !== 0) throw new XepaError('ERR_CONFIG', `mount ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
}

// Unmounts dir (writes reach the disk before it returns).
export async function unmount(dir: string, deps: MountDeps): Promise<void> {
  const r = await deps.run('umount', [dir]);
  if (r.code !== 0) throw new XepaError('ERR_CONFIG', `umount ${dir} failed (exit ${r.code}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
}

// Runs fn with the partition mounted at dir, and always unmounts.
export async function withMounted<T>(part: DiskPart, dir: string, mode: 'ro' | 'rw', deps: MountDeps, fn: () => Promise<T>): Promise<T> {
  await mountPart(part, dir, mode, deps);
  try {
    return await fn();
  } finally {
    await unmount(dir, deps);
  }
}
