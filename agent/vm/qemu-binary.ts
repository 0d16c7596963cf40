import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { XepaError } from '../protocol/index.js';

// The QEMU system emulator XEPA runs.
export const QEMU_BINARY_NAME = 'qemu-system-x86_64';

/**
 * Finds qemu-system-x86_64 on PATH and returns its full path.
 * Absent -> ERR_QEMU_START naming the package to install.
 */
export async function findQemuBinary(opts: { pathEnv?: string; name?: string } = {}): Promise<string> {
  const name = opts.name ?? QEMU_BINARY_NAME;
  const dirs = (opts.pathEnv ?? process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new XepaError(
    'ERR_QEMU_START',
    `${name} not found on PATH (${dirs.join(delimiter) || 'empty'}): install QEMU (Debian: apt-get install qemu-system-x86; Alpine: apk add qemu-system-x86_64)`,
    { details: { binary: name, path: dirs } },
  );
}
