import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkQmpCommand } from '../../../agent/console/index.js';
import { codeOf } from '../../support/error-code.js';

// Media changes over /v1/qmp insert only verified, complete ISOs of the agent's cache, raw and read-only: a
// client cannot point QEMU at a host file (/etc/shadow, a disk), a partial download, or open a medium writable.
const root = mkdtempSync(join(tmpdir(), 'xepa-qmp-media-'));
const cache = join(root, 'isos');
mkdirSync(cache);
const SHA = 'a'.repeat(64);
const VERIFIED = join(cache, `${SHA}.iso`);
writeFileSync(VERIFIED, 'iso bytes');
const ctx = { jobDir: join(root, 'job-1'), mediaDirs: [cache] };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const change = (args: Record<string, unknown>) => () => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', ...args }, ctx);
const place = (name: string, make: (p: string) => void): string => {
  const p = join(cache, name);
  make(p);
  return p;
};

describe('blockdev-change-medium', () => {
  it('inserts a verified ISO of the cache raw and read-only, whatever mode the client leaves out', () => {
    expect(change({ filename: VERIFIED })()).toEqual({ id: 'cdrom0', filename: VERIFIED, format: 'raw', 'read-only-mode': 'read-only' });
    expect(change({ filename: VERIFIED, 'read-only-mode': 'read-only', force: true })()).toMatchObject({ 'read-only-mode': 'read-only', force: true });
  });

  it('refuses to open a medium writable or to keep a previous mode (ERR_FORBIDDEN)', () => {
    for (const mode of ['read-write', 'retain', 'anything'] as const) {
      expect(codeOf(change({ filename: VERIFIED, 'read-only-mode': mode }))).toBe('ERR_FORBIDDEN');
    }
  });

  it('refuses host files outside the cache: /etc/shadow, /dev/null, the cache directory itself', () => {
    for (const filename of ['/etc/shadow', '/dev/null', cache, `${cache}/../isos/../../${SHA}.iso`]) {
      expect([filename, codeOf(change({ filename }))]).toEqual([filename, expect.stringMatching(/ERR_FORBIDDEN|ERR_NOT_FOUND/)]);
    }
    expect(codeOf(change({ filename: '/etc/shadow' }))).toBe('ERR_FORBIDDEN');
  });

  it('refuses what is in the cache but is not a complete, verified ISO', () => {
    const cases = [
      place(`${'b'.repeat(64)}.iso.part`, (p) => writeFileSync(p, 'half')), // a download in progress
      place(`${'b'.repeat(64)}.iso.part.json`, (p) => writeFileSync(p, '{}')), // its sidecar
      place('drivers.iso', (p) => writeFileSync(p, 'x')), // not named by a digest
      place(`${'C'.repeat(64)}.iso`, (p) => writeFileSync(p, 'x')), // digests are lowercase hex
      place(`${'c'.repeat(63)}.iso`, (p) => writeFileSync(p, 'x')), // not a SHA-256
      place(`${'d'.repeat(64)}.iso`, (p) => mkdirSync(p)), // a directory
      place(`${'e'.repeat(64)}.iso`, (p) => execFileSync('mkfifo', [p])), // not a regular file (would block QEMU)
      place(`${'f'.repeat(64)}.iso`, (p) => symlinkSync('/etc/shadow', p)), // a digest name leading out
      place('sub', (p) => (mkdirSync(p), writeFileSync(join(p, `${SHA}.iso`), 'x'))) + `/${SHA}.iso`, // below the cache
    ];
    for (const filename of cases) expect([filename, codeOf(change({ filename }))]).toEqual([filename, 'ERR_FORBIDDEN']);
  });

  it('follows a symlink that stays in the cache and inserts its target', () => {
    const alias = place(`${'9'.repeat(64)}.iso`, (p) => symlinkSync(VERIFIED, p));
    expect(change({ filename: alias })()).toMatchObject({ filename: VERIFIED, 'read-only-mode': 'read-only' });
  });

  it('refuses unknown arguments and the older `change` command', () => {
    expect(codeOf(change({ filename: VERIFIED, 'file.filename': '/etc/shadow' }))).toBe('ERR_FORBIDDEN');
    expect(codeOf(() => checkQmpCommand('change', { device: 'cd0', target: '/etc/shadow' }, ctx))).toBe('ERR_FORBIDDEN');
  });
});
