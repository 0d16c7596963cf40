// The debian module against Debian's real published files, served on loopback: the real InRelease checked by gpgv
// against the real debian-archive-keyring, the real SHA256SUMS it lists, the real netboot kernel and initrd of
// debian-installer-12-netboot-amd64. Tampered copies of each are refused. Then validation levels: the real
// installer booted in QEMU (TCG) is level `boot`; the default policy (install) keeps it candidate, promoteAt "boot"
// promotes it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../controller/cli/main.js';
import { Store } from '../../../controller/vendor/index.js';
import { DEBIAN_ARCHIVE_KEYRINGS, verifyInRelease } from '../../../controller/vendor/upstream/inrelease.js';
import { captureOutput } from '../../support/capture.js';
import { debianPaths, loadDebianMedia, otherHexDigit, serveDebian, tamper, type DebianMedia } from './debian-upstream.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

const OTHERS = { nixos: { disabled: true }, talos: { disabled: true }, flatcar: { disabled: true }, alpine: { disabled: true }, freebsd: { disabled: true } };
// The keys that sign bookworm's InRelease today (debian-archive-keyring 2023.3: bookworm automatic, bookworm
// stable release key, and the trixie automatic key that also signs it).
const SYSTEM_INRELEASE = '/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let media: DebianMedia;
let up: FakeUpstream;
let work: string;

beforeAll(async () => {
  media = await loadDebianMedia((l) => console.log(`debian media: ${l}`));
  up = await startFakeUpstream();
  work = mkdtempSync(join(tmpdir(), 'xepa-vendor-debian-'));
}, 900_000);
afterAll(async () => {
  await up?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// A store and config of its own per test; `run` writes the debian override given (or the default one) first.
function env(name: string, debian: Record<string, unknown>): { store: Store; run(args: string[], override?: Record<string, unknown>): Promise<{ code: number; out: string; err: string }> } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const storeDir = join(dir, 'store');
  const configPath = join(dir, 'vendor.json');
  const store = new Store(storeDir);
  return {
    store,
    async run(args, override = debian) {
      writeFileSync(configPath, JSON.stringify({ modules: { ...OTHERS, debian: { bases: { mirror: `${up.base}/debian` }, ...override } } }));
      const o = captureOutput();
      const code = await runCli(['vendor', ...args, '--store', storeDir, '--vendor-config', configPath], o);
      return { code, out: o.stdout(), err: o.stderr() };
    },
  };
}

describe('the real InRelease and the real debian-archive-keyring (gpgv)', () => {
  const inReleases = (): { what: string; doc: Buffer }[] => [
    { what: 'apt snapshot', doc: media.inRelease },
    ...(existsSync(SYSTEM_INRELEASE) ? [{ what: SYSTEM_INRELEASE, doc: readFileSync(SYSTEM_INRELEASE) }] : []),
  ];

  it('verifies: signer from the keyring, bookworm, and the current installer SHA256SUMS listed', async () => {
    if (!existsSync(SYSTEM_INRELEASE)) console.log(`skip part: ${SYSTEM_INRELEASE} is absent here; only the apt snapshot's InRelease is checked`);
    for (const { what, doc } of inReleases()) {
      const rel = await verifyInRelease(doc);
      expect(rel.signer, what).toMatch(/^[0-9A-F]{40}$/);
      expect(rel.fields['Codename'], what).toBe('bookworm');
      expect(rel.sha256.get('main/installer-amd64/current/images/SHA256SUMS'), what).toBeDefined();
    }
    expect((await verifyInRelease(media.inRelease)).sha256.get('main/installer-amd64/current/images/SHA256SUMS')?.hex).toBe(sha256(media.sha256sums));
  });

  it('refuses a tampered InRelease: one digit of a listed digest, the signature, text around it, the wrong keyring', async () => {
    const rel = await verifyInRelease(media.inRelease);
    const cur = rel.sha256.get('main/installer-amd64/current/images/SHA256SUMS')!.hex;
    const digit = tamper(media.inRelease, cur, otherHexDigit(cur[0]!) + cur.slice(1));
    await expect(verifyInRelease(digit)).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringMatching(/BADSIG/) });
    const sigAt = media.inRelease.indexOf('-----BEGIN PGP SIGNATURE-----');
    const sig = Buffer.from(media.inRelease);
    const at = sig.indexOf('\n\n', sigAt) + 10; // inside the first signature's base64
    sig[at] = sig[at] === 0x41 ? 0x42 : 0x41;
    await expect(verifyInRelease(sig)).rejects.toMatchObject({ code: 'ERR_SIGNATURE' });
    // gpgv itself accepts text outside the signed block (and writes out only the signed part); we refuse it, as apt does
    const before = Buffer.concat([Buffer.from('SHA256:\n ' + '0'.repeat(64) + ' 1 main/installer-amd64/current/images/SHA256SUMS\n\n'), media.inRelease]);
    await expect(verifyInRelease(before)).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringMatching(/before its signed block/) });
    const after = Buffer.concat([media.inRelease, Buffer.from('Codename: trixie\n')]);
    await expect(verifyInRelease(after)).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringMatching(/after its signature/) });
    // the same real document against real keyrings that do not hold its keys
    await expect(verifyInRelease(media.inRelease, { keyrings: ['/usr/share/keyrings/debian-archive-removed-keys.gpg'] })).rejects.toMatchObject({ code: 'ERR_SIGNATURE', message: expect.stringMatching(/NO_PUBKEY|ERRSIG/) });
    expect(DEBIAN_ARCHIVE_KEYRINGS).toEqual(['/usr/share/keyrings/debian-archive-keyring.gpg']);
  });
});

describe('xepa vendor update debian: InRelease → SHA256SUMS → netboot files, on loopback', () => {
  it('refuses a tampered InRelease, SHA256SUMS or image, keeps nothing of them, then takes the real release in', async () => {
    const e = env('chain', { validation: { kind: 'manual' } });
    const p = debianPaths(media.build);
    const sumsText = media.sha256sums.toString('utf8');
    const linuxHex = /^([0-9a-f]{64})\s+\.\/netboot\/debian-installer\/amd64\/linux$/m.exec(sumsText)![1]!;
    const initrdHex = /^([0-9a-f]{64})\s+\.\/netboot\/debian-installer\/amd64\/initrd\.gz$/m.exec(sumsText)![1]!;
    // the package's files are the ones the live SHA256SUMS lists (the manual check of docs/vendor-services.md, kept)
    expect(sha256(media.linux)).toBe(linuxHex);
    expect(sha256(media.initrd)).toBe(initrdHex);

    // 1. InRelease with one digit of the SHA256SUMS digest changed: the signature fails, nothing else is fetched
    const cur = sha256(media.sha256sums);
    serveDebian(up, media, { inRelease: tamper(media.inRelease, cur, otherHexDigit(cur[0]!) + cur.slice(1)) });
    up.requests.length = 0;
    let r = await e.run(['update', 'debian']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/debian\s+-\s+failed\s+-\s+ERR_SIGNATURE: the signature does not verify .*BADSIG/);
    expect(up.requests).toEqual([p.inRelease]);
    expect((await e.store.readIndex('debian')).releases).toEqual([]);

    // 2. SHA256SUMS with the kernel's line changed: its digest no longer matches the signed InRelease
    serveDebian(up, media, { sums: tamper(media.sha256sums, linuxHex, otherHexDigit(linuxHex[0]!) + linuxHex.slice(1)) });
    up.requests.length = 0;
    r = await e.run(['update', 'debian']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`debian\\s+${media.build.replace(/\+/g, '\\+')}\\s+rejected\\s+-\\s+ERR_FETCH_DIGEST: .*SHA256SUMS does not match the signed`));
    expect(up.requests).toEqual([p.inRelease, p.sums]);

    // 3. the initrd with one byte flipped: downloaded, digest mismatch, no blob kept
    const bad = Buffer.from(media.initrd);
    const mid = bad.length >> 1;
    bad[mid] = bad[mid]! ^ 0xff;
    serveDebian(up, media, { initrd: bad });
    r = await e.run(['update', 'debian', '--retry-rejected']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/rejected\s+-\s+ERR_FETCH_DIGEST: .*initrd\.gz/);
    const blobsOf = (): string[] => readdirSync(join(e.store.root, 'blobs', 'sha256'), { recursive: true }).map(String).filter((n) => /[0-9a-f]{64}$/.test(n)).map((n) => n.slice(-64));
    expect(blobsOf()).not.toContain(sha256(bad));
    let idx = await e.store.readIndex('debian');
    expect(idx.releases[0]).toMatchObject({ version: media.build, status: 'rejected', files: [] });

    // 4. the real files: stored, each digest the one SHA256SUMS lists, the wrapped boot ISO built beside them
    serveDebian(up, media);
    r = await e.run(['update', 'debian', '--retry-rejected']);
    expect(r.err).toMatch(/linux: sha256 matches upstream/);
    expect(r.out).toMatch(new RegExp(`debian\\s+${media.build.replace(/\+/g, '\\+')}\\s+candidate`));
    idx = await e.store.readIndex('debian');
    const rel = idx.releases.find((x) => x.version === media.build)!;
    expect(rel.status).toBe('candidate');
    expect(rel.files.find((f) => f.name === 'linux')).toMatchObject({ sha256: linuxHex, size: media.linux.length, origin: `${up.base}${p.linux}` });
    expect(rel.files.find((f) => f.name === 'initrd.gz')).toMatchObject({ sha256: initrdHex, size: media.initrd.length });
    expect(rel.files.some((f) => f.role === 'boot-iso')).toBe(true);
    expect(idx.stable).toBeUndefined();
  });
});

describe('validation levels: the real installer booted (TCG) is level boot', () => {
  it('stays candidate under the default policy (install), shows its level, and promotes once promoteAt is boot', async () => {
    // the module's own marker (the installer's question with no network) takes ~5 min under TCG here: this test
    // stops at an earlier screen of the same unattended run (after the locale and keymap the command line answers)
    const validation = { marker: 'Detecting network hardware', timeoutSeconds: 400 };
    const e = env('levels', { validation });
    const v = media.build.replace(/\+/g, '\\+');
    serveDebian(up, media);
    let r = await e.run(['update', 'debian']);
    expect(r.err).toMatch(/validating: kernel-boot/);
    expect(r.out).toMatch(new RegExp(`debian\\s+${v}\\s+candidate\\s+-\\s+validated at level boot \\("Detecting network hardware" on serial after`));
    expect(r.out).toMatch(/the policy promotes at install/);
    expect(r.code).toBe(0);
    let idx = await e.store.readIndex('debian');
    expect(idx.releases[0]!.validation).toMatchObject({ status: 'passed', kind: 'kernel-boot', level: 'boot' });
    expect(idx.stable).toBeUndefined();
    const list = await e.run(['list', 'debian']);
    expect(list.out).toMatch(/promotes at level install/);
    expect(list.out).toMatch(new RegExp(`${v}\\s+candidate\\s+candidate\\s+boot\\s+passed`));
    const json = JSON.parse((await e.run(['list', 'debian', '--json'])).out) as { os: { promoteAt: string; releases: { validation: { level: string } }[] }[] };
    expect(json.os[0]).toMatchObject({ promoteAt: 'install', releases: [{ validation: { level: 'boot' } }] });
    // the operator accepts boot for this mirror: the passed validation promotes without running again
    r = await e.run(['update', 'debian'], { validation, promoteAt: 'boot' });
    expect(r.out).toMatch(new RegExp(`debian\\s+${v}\\s+promoted\\s+${v}\\s+boot: "Detecting network hardware"`));
    expect(r.err).not.toMatch(/validating: kernel-boot/);
    idx = await e.store.readIndex('debian');
    expect(idx.stable).toBe(media.build);
    const all = await e.run(['list'], { validation, promoteAt: 'boot' });
    expect(all.out).toMatch(new RegExp(`debian\\s+kernel-initrd\\s+${v}\\s+boot\\s.*kernel-boot\\s+boot`));
  }, 600_000);
});
