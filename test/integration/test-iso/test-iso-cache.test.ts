// The test-ISO cache with real builds in a private cache directory: concurrency, offline fallback, missing tools.
import * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { ensureTestIso, TEST_ISO_PACKAGES } from '../../../build/test-iso/index.js';

let cacheDir = '';

beforeAll(async () => {
  await ensureDebianPackages(TEST_ISO_PACKAGES);
  cacheDir = await fsp.mkdtemp(join(tmpdir(), 'xepa-iso-cache-'));
  // Reuse kernel .debs the shared cache already holds (hard links: no copy, no download).
  const shared = join(process.env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa'), 'debs');
  await fsp.mkdir(join(cacheDir, 'debs'), { recursive: true });
  for (const name of await fsp.readdir(shared).catch(() => [] as string[])) {
    await fsp.link(join(shared, name), join(cacheDir, 'debs', name)).catch(() => fsp.copyFile(join(shared, name), join(cacheDir, 'debs', name)));
  }
});

afterAll(async () => {
  if (cacheDir) await fsp.rm(cacheDir, { recursive: true, force: true });
});

// A spawn that replaces one sub-command of the builder script with a tiny fake program.
function spawnFaking(subcommand: string, fakeShell: string): typeof childProcess.spawn {
  return ((cmd: string, args: readonly string[], opts: childProcess.SpawnOptions) =>
    args[1] === subcommand ? childProcess.spawn('bash', ['-c', fakeShell], opts) : childProcess.spawn(cmd, args, opts)) as typeof childProcess.spawn;
}

describe('the test ISO cache', () => {
  it('survives two concurrent builds: one publishes, the other uses it, nothing half-written remains', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([ensureTestIso({ cacheDir }), ensureTestIso({ cacheDir })]);
    console.log(`[test-iso] two concurrent uncached builds: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(a.iso).toBe(b.iso);
    expect(a.sha256).toBe(b.sha256);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
    const entries = await fsp.readdir(join(cacheDir, 'test-iso'));
    expect(entries.filter((e) => e.startsWith('.tmp-'))).toEqual([]);
    expect(entries.filter((e) => e.startsWith('linux-image-'))).toHaveLength(1);
    const digest = createHash('sha256').update(await fsp.readFile(a.iso)).digest('hex');
    expect(digest).toBe(a.sha256);
  });

  it('falls back to the newest cached build when apt cannot resolve the kernel', async () => {
    const built = await ensureTestIso({ cacheDir });
    await fsp.rm(join(cacheDir, 'test-iso', 'resolved-cloud.json'));
    const lines: string[] = [];
    const offline = await ensureTestIso({ cacheDir, spawn: spawnFaking('resolve', 'echo "E: no lists" >&2; exit 1'), log: (l) => lines.push(l) });
    expect(offline.iso).toBe(built.iso);
    expect(offline.cached).toBe(true);
    expect(lines.join('\n')).toContain('using the cached build');
  });

  it('refuses with ERR_CONFIG naming the Debian packages when builder tools are missing', async () => {
    const attempt = ensureTestIso({ cacheDir, spawn: spawnFaking('check', 'echo "MISSING_PACKAGES=kmod xorriso"; exit 2') });
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_CONFIG', details: { missing: ['kmod', 'xorriso'] } });
  });
});
