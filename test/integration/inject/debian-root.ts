import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEBIAN_PACKAGES } from '../../../alpine/index.js';

const run = promisify(execFile);

// Left out of the cached root on purpose, so the first injection really installs a package with apt.
export const LEFT_FOR_THE_INJECTOR = 'swtpm';

// What the cached root holds besides minbase: every package the agent needs but one.
export const CACHED_PACKAGES = DEBIAN_PACKAGES.filter((p) => p !== LEFT_FOR_THE_INJECTOR);

// Root-owned and not group/world-writable on every path component: what sshd's ChrootDirectory demands.
export const INJECT_WORK = join(homedir(), '.cache', 'xepa', 'inject');

// A Debian 12 minbase tree with the agent's packages but one, built once by debootstrap and cached (about a
// minute, network to the Debian mirror needed once).
export async function ensureCachedDebianRoot(log: (l: string) => void = () => {}): Promise<string> {
  const key = createHash('sha256').update(['bookworm', 'minbase', ...CACHED_PACKAGES].join(' ')).digest('hex').slice(0, 12);
  const root = join(INJECT_WORK, `debian-root-${key}`);
  if (existsSync(join(root, '.xepa-complete'))) return root;
  mkdirSync(INJECT_WORK, { recursive: true, mode: 0o755 });
  const tmp = `${root}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const mirror = process.env.XEPA_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  log(`building a Debian 12 root for injection tests in ${root} (debootstrap, cached afterwards)`);
  await run('debootstrap', ['--variant=minbase', `--include=${CACHED_PACKAGES.join(',')}`, 'bookworm', tmp, mirror], { maxBuffer: 64 * 2 ** 20 });
  await run('sh', ['-c', `rm -f ${tmp}/var/cache/apt/archives/*.deb`]);
  writeFileSync(join(tmp, '.xepa-complete'), `${new Date().toISOString()}\n`);
  rmSync(root, { recursive: true, force: true });
  await run('mv', [tmp, root]);
  return root;
}

/** A private copy of the cached root with /proc mounted, as a rescue system has. */
export interface DebianRoot {
  path: string;
  dispose(): Promise<void>;
}

// Copies the cached root for one test run (the injection changes it) and mounts /proc in it.
export async function copyDebianRoot(cached: string, name: string): Promise<DebianRoot> {
  const runs = join(INJECT_WORK, 'runs');
  mkdirSync(runs, { recursive: true, mode: 0o755 });
  const path = join(runs, `${name}-${process.pid}`);
  await run('umount', [join(path, 'proc')]).catch(() => undefined);
  rmSync(path, { recursive: true, force: true });
  await run('cp', ['-a', cached, path]);
  await run('mount', ['-t', 'proc', 'proc', join(path, 'proc')]);
  return {
    path,
    dispose: async () => {
      await run('umount', ['-l', join(path, 'proc')]).catch(() => undefined);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
