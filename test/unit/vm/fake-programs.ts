import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Writes an executable shell script (a tiny stand-in for QEMU) and returns its path.
export async function writeFakeProgram(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

// True while a process with this pid exists (signal 0 only checks).
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
