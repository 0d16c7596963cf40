// Debian as its archive publishes it: the suite's InRelease (verified by gpgv against debian-archive-keyring), which
// lists with their SHA256 the installer's checksum files `main/installer-amd64/<build>/images/SHA256SUMS`; `current`
// is the build the suite ships now. Only what gpgv verified counts: the release is that build, and its SHA256SUMS
// must then match the digest and size the signed index gives (checkSignedSums), before any file is planned from it.
import type * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { XepaError } from '../../../agent/protocol/index.js';
import { VERSION, isSafeName } from '../os/names.js';
import type { ReleaseSource } from '../os/schema.js';
import { fetchBytes, type TextRequest } from './http.js';
import { verifyInRelease, type VerifiedRelease } from './inrelease.js';
import type { UpstreamRelease } from './release.js';

type DebianSource = Extract<ReleaseSource, { kind: 'debian-inrelease' }>;

// How gpgv is run (tests inject nothing here: the real gpgv with the real keyring).
export interface DebianDeps {
  spawn?: typeof childProcess.spawn;
  now?: () => Date;
}

// Release dates as Debian writes them: `Sat, 11 Jul 2026 10:16:37 UTC` (RFC 2822, UTC).
function releaseDate(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const t = Date.parse(v.replace(/ UTC$/, ' GMT'));
  return Number.isNaN(t) ? undefined : new Date(t);
}

// Checks what a verified Release says about itself: the suite it names, and a Valid-Until not yet passed
// (a replayed old index would otherwise pin an old installer).
export function checkReleaseFields(rel: VerifiedRelease, src: Pick<DebianSource, 'suite'>, now: Date, url: string): void {
  const names = [rel.fields['Codename'], rel.fields['Suite']];
  if (!names.includes(src.suite)) {
    throw new XepaError('ERR_SIGNATURE', `${url} is signed by Debian but is the index of ${names.filter(Boolean).join('/') || '?'}, not of ${src.suite}`);
  }
  const until = releaseDate(rel.fields['Valid-Until']);
  if (until && until.getTime() < now.getTime()) {
    throw new XepaError('ERR_SIGNATURE', `${url} expired at ${rel.fields['Valid-Until']} (Valid-Until): refusing an outdated index`);
  }
}

// The installer build `current` names: the one dated build whose SHA256SUMS entry equals current's.
export function currentInstallerBuild(rel: VerifiedRelease, installer: string): { build: string; path: string; sha256: string; size: number } {
  const cur = rel.sha256.get(`${installer}/current/images/SHA256SUMS`);
  if (!cur) throw new XepaError('ERR_NOT_FOUND', `the signed index lists no ${installer}/current/images/SHA256SUMS`);
  const builds: string[] = [];
  for (const [path, d] of rel.sha256) {
    const m = /^(.+)\/([^/]+)\/images\/SHA256SUMS$/.exec(path);
    if (!m || m[1] !== installer || m[2] === 'current') continue;
    if (d.hex === cur.hex && d.size === cur.size && isSafeName(VERSION, m[2]!)) builds.push(m[2]!);
  }
  if (builds.length !== 1) {
    throw new XepaError('ERR_NOT_FOUND', `the signed index names ${builds.length === 0 ? 'no' : `${builds.length} (${builds.join(', ')})`} installer build with current's SHA256SUMS: cannot tell which build is current`);
  }
  const build = builds[0]!;
  return { build, path: `${installer}/${build}/images/SHA256SUMS`, sha256: cur.hex, size: cur.size };
}

// Fetches and verifies the suite's InRelease; the one release is the current installer build, carrying the
// signed digest of its SHA256SUMS.
export async function listDebianReleases(src: DebianSource, url: string, http: TextRequest = {}, deps: DebianDeps = {}): Promise<UpstreamRelease[]> {
  const doc = await fetchBytes(url, http);
  const rel = await verifyInRelease(doc, { keyrings: src.keyrings, ...(deps.spawn ? { spawn: deps.spawn } : {}) });
  checkReleaseFields(rel, src, (deps.now ?? (() => new Date()))(), url);
  const cur = currentInstallerBuild(rel, src.installer);
  const distsDir = url.slice(0, url.lastIndexOf('/') + 1);
  return [{
    version: cur.build,
    signedSums: { url: new URL(cur.path, distsDir).href, sha256: cur.sha256, size: cur.size, signer: rel.signer, index: url },
  }];
}

// Fetches the checksum file the signed index named and checks it against the signed digest and size.
export async function fetchSignedSums(s: NonNullable<UpstreamRelease['signedSums']>, http: TextRequest = {}): Promise<string> {
  const body = await fetchBytes(s.url, http);
  const hex = createHash('sha256').update(body).digest('hex');
  if (hex !== s.sha256 || body.length !== s.size) {
    throw new XepaError('ERR_FETCH_DIGEST', `${s.url} does not match the signed ${s.index} (sha256 ${hex.slice(0, 16)}…, ${body.length} bytes; ` +
      `signed: ${s.sha256.slice(0, 16)}…, ${s.size} bytes): refusing its digests`);
  }
  return body.toString('utf8');
}

// Maps each path of a GNU checksum file (`HEX  ./netboot/debian-installer/amd64/linux`) to its sha256; names repeat
// across directories in Debian's SHA256SUMS, so the whole relative path is the key.
export function parseSumsByPath(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(raw.trim());
    if (m) out.set(m[2]!.trim().replace(/^(\.\/)+/, ''), m[1]!.toLowerCase());
  }
  return out;
}

// A file's path relative to the checksum file's directory, or undefined when the file lies outside it.
export function pathUnder(sumsUrl: string, fileUrl: string): string | undefined {
  const dir = new URL('.', sumsUrl);
  const f = new URL(fileUrl);
  if (f.origin !== dir.origin || !f.pathname.startsWith(dir.pathname)) return undefined;
  return decodeURIComponent(f.pathname.slice(dir.pathname.length));
}
