import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// The Debian cloud kernel this machine's tests were set up with.
export const KNOWN_KERNEL = '/tmp/k/x/boot/vmlinuz-6.1.0-56-cloud-amd64';
const PINNED_PACKAGE = 'linux-image-6.1.0-56-cloud-amd64';

/**
 * Returns a Linux kernel to probe KVM with: the known extracted one, else a Debian cloud kernel fetched with
 * apt-get download and unpacked with dpkg-deb into a temp dir. Returns { skip } saying why when neither works.
 */
export async function getProbeKernel(): Promise<{ kernel: string } | { skip: string }> {
  if (existsSync(KNOWN_KERNEL)) return { kernel: KNOWN_KERNEL };
  const dir = await mkdtemp(join(tmpdir(), 'xepa-kernel-'));
  const names = [PINNED_PACKAGE];
  try {
    // The pinned version leaves the archive after updates: follow the metapackage to the current one.
    const { stdout } = await run('apt-cache', ['depends', 'linux-image-cloud-amd64']);
    const dep = /Depends:\s*(linux-image-[\w.+-]+-cloud-amd64)/.exec(stdout)?.[1];
    if (dep && dep !== PINNED_PACKAGE) names.push(dep);
  } catch {
    // no apt-cache: try the pinned name only
  }
  const errors: string[] = [];
  for (const name of names) {
    try {
      await run('apt-get', ['download', name], { cwd: dir, timeout: 300_000 });
      const deb = (await readdir(dir)).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error('no .deb downloaded');
      await run('dpkg-deb', ['-x', join(dir, deb), join(dir, 'x')]);
      const boot = join(dir, 'x', 'boot');
      const kernel = (await readdir(boot)).find((f) => f.startsWith('vmlinuz-'));
      if (kernel) return { kernel: join(boot, kernel) };
      errors.push(`${name}: no vmlinuz in the package`);
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { skip: `no probe kernel: ${KNOWN_KERNEL} is missing and apt could not provide one (${errors.join('; ')})` };
}
