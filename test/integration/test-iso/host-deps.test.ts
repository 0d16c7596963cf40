// ensureDebianPackages against the real dpkg database; apt-get is replaced by tiny fake programs (never run for real).
import * as childProcess from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';

const MISSING = 'xepa-no-such-package';

// Real dpkg-query; apt-get becomes `bash -c fakeApt`; every command is recorded.
function recordingSpawn(fakeApt: string, calls: string[][]): typeof childProcess.spawn {
  return ((cmd: string, args: readonly string[], opts: childProcess.SpawnOptions) => {
    calls.push([cmd, ...args]);
    return cmd === 'apt-get' ? childProcess.spawn('bash', ['-c', fakeApt], opts) : childProcess.spawn(cmd, args, opts);
  }) as typeof childProcess.spawn;
}

describe('ensureDebianPackages', () => {
  it('installs nothing and never calls apt-get when every package is installed', async () => {
    const calls: string[][] = [];
    const r = await ensureDebianPackages(['cpio', 'zstd'], { spawn: recordingSpawn('exit 1', calls) });
    expect(r.installed).toEqual([]);
    expect(calls.filter((c) => c[0] === 'apt-get')).toEqual([]);
  });

  it('runs apt-get update once, then installs only the missing packages without recommends', async () => {
    const calls: string[][] = [];
    const r = await ensureDebianPackages(['cpio', MISSING, 'zstd'], { spawn: recordingSpawn('exit 0', calls), uid: 0 });
    expect(r.installed).toEqual([MISSING]);
    expect(calls.filter((c) => c[0] === 'apt-get')).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', '--no-install-recommends', MISSING],
    ]);
  });

  it('refuses with ERR_CONFIG naming the missing packages when not root', async () => {
    const calls: string[][] = [];
    const attempt = ensureDebianPackages([MISSING, 'cpio'], { spawn: recordingSpawn('exit 0', calls), uid: 1000 });
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_CONFIG', details: { missing: [MISSING] } });
    await expect(attempt).rejects.toThrow(/needs root/);
    expect(calls.filter((c) => c[0] === 'apt-get')).toEqual([]);
  });

  it('reports a failing apt-get install with ERR_CONFIG and apt-get\'s last error line', async () => {
    const fake = 'if [ "$1" = update ]; then exit 0; fi; echo "E: Unable to locate package" >&2; exit 100';
    const calls: string[][] = [];
    const spawn = ((cmd: string, args: readonly string[], opts: childProcess.SpawnOptions) => {
      calls.push([cmd, ...args]);
      return cmd === 'apt-get' ? childProcess.spawn('bash', ['-c', fake, 'fake-apt', ...args], opts) : childProcess.spawn(cmd, args, opts);
    }) as typeof childProcess.spawn;
    const attempt = ensureDebianPackages([MISSING], { spawn, uid: 0 });
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await expect(attempt).rejects.toThrow(/Unable to locate package/);
  });
});
