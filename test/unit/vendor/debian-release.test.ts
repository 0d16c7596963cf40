import { describe, expect, it } from 'vitest';
import { levelMeets, validationLevel } from '../../../controller/vendor/os/schema.js';
import { checkReleaseFields, currentInstallerBuild, parseSumsByPath, pathUnder } from '../../../controller/vendor/upstream/debian-release.js';
import { checkClearsignFrame } from '../../../controller/vendor/upstream/inrelease.js';

const h = (c: string): string => c.repeat(64);
const rel = (entries: [string, string, number][], fields: Record<string, string> = { Codename: 'bookworm', Suite: 'oldstable' }) =>
  ({ fields, sha256: new Map(entries.map(([p, x, n]) => [p, { hex: x, size: n }])), signer: 'F'.repeat(40) });

describe('Debian release parsing (the parts after gpgv)', () => {
  it('picks the installer build current names, and refuses ambiguity or absence', () => {
    const i = 'main/installer-amd64';
    const r = rel([[`${i}/20230607/images/SHA256SUMS`, h('a'), 10], [`${i}/20230607+deb12u15/images/SHA256SUMS`, h('b'), 11], [`${i}/current/images/SHA256SUMS`, h('b'), 11]]);
    expect(currentInstallerBuild(r, i)).toEqual({ build: '20230607+deb12u15', path: `${i}/20230607+deb12u15/images/SHA256SUMS`, sha256: h('b'), size: 11 });
    expect(() => currentInstallerBuild(rel([[`${i}/current/images/SHA256SUMS`, h('b'), 11]]), i)).toThrow(/no installer build/);
    expect(() => currentInstallerBuild(rel([]), i)).toThrow(/lists no main\/installer-amd64\/current/);
    expect(() => currentInstallerBuild(rel([[`${i}/x/images/SHA256SUMS`, h('b'), 11], [`${i}/y/images/SHA256SUMS`, h('b'), 11], [`${i}/current/images/SHA256SUMS`, h('b'), 11]]), i)).toThrow(/2 \(x, y\)/);
  });

  it('checks the suite and Valid-Until', () => {
    const now = new Date('2026-12-07T00:00:00Z');
    expect(() => checkReleaseFields(rel([]), { suite: 'bookworm' }, now, 'u')).not.toThrow();
    expect(() => checkReleaseFields(rel([], { Codename: 'trixie', Suite: 'stable' }), { suite: 'bookworm' }, now, 'u')).toThrow(/trixie\/stable, not of bookworm/);
    expect(() => checkReleaseFields(rel([], { Codename: 'bookworm', 'Valid-Until': 'Sat, 11 Jul 2026 10:16:37 UTC' }), { suite: 'bookworm' }, now, 'u')).toThrow(/expired/);
  });

  it('keys SHA256SUMS by relative path (names repeat across directories) and places files under it', () => {
    const m = parseSumsByPath(`${h('1')}  ./netboot/debian-installer/amd64/linux\n${h('2')}  ./netboot/gtk/debian-installer/amd64/linux\n`);
    expect(m.get('netboot/debian-installer/amd64/linux')).toBe(h('1'));
    expect(m.get('netboot/gtk/debian-installer/amd64/linux')).toBe(h('2'));
    const sums = 'http://m/debian/dists/bookworm/main/installer-amd64/b/images/SHA256SUMS';
    expect(pathUnder(sums, 'http://m/debian/dists/bookworm/main/installer-amd64/b/images/netboot/x')).toBe('netboot/x');
    expect(pathUnder(sums, 'http://m/debian/dists/bookworm/other')).toBeUndefined();
    expect(pathUnder(sums, 'http://evil/debian/dists/bookworm/main/installer-amd64/b/images/netboot/x')).toBeUndefined();
  });

  it('refuses a clearsigned document with text around it', () => {
    const doc = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n-----BEGIN PGP SIGNATURE-----\n\nAA==\n-----END PGP SIGNATURE-----\n';
    expect(() => checkClearsignFrame(Buffer.from(doc))).not.toThrow();
    expect(() => checkClearsignFrame(Buffer.from('x\n' + doc))).toThrow(/before/);
    expect(() => checkClearsignFrame(Buffer.from(doc + 'Suite: y\n'))).toThrow(/after/);
  });
});

describe('validation levels and the promotion policy', () => {
  it('maps kinds to levels and promotes only at or above promoteAt', () => {
    expect(validationLevel('iso-install')).toBe('install');
    expect(validationLevel('kernel-boot')).toBe('boot');
    expect(validationLevel('iso-boot')).toBe('boot');
    expect(validationLevel('manual')).toBeUndefined();
    expect(levelMeets('install', 'install')).toBe(true);
    expect(levelMeets('boot', 'install')).toBe(false);
    expect(levelMeets('boot', 'boot')).toBe(true);
    expect(levelMeets('install', 'boot')).toBe(true);
    expect(levelMeets(undefined, 'boot')).toBe(false);
  });
});
