// Works out, for one upstream release, every file to download: its URL and the digest upstream published for it.
// Nothing is downloaded without an expected digest.
import { XepaError } from '../../../agent/protocol/index.js';
import type { ModuleFile, OsModule } from '../os/schema.js';
import { baseVars, expandTemplate, versionVars, type TemplateVars } from '../os/templates.js';
import { parseAssetDigest, parseSingleSum, parseSums, requireDigest, type Digest } from './checksums.js';
import { fetchSignedSums, parseSumsByPath, pathUnder } from './debian-release.js';
import { fetchText, type TextRequest } from './http.js';
import type { UpstreamRelease } from './release.js';

// One file to download.
export interface DownloadPlan {
  file: ModuleFile;
  url: string;
  expected: Digest;
}

// One file to take out of a downloaded archive.
export interface ExtractPlan {
  file: ModuleFile;
  archive: string;
  member: string;
}

// The whole plan of a release.
export interface ReleasePlan {
  version: string;
  downloads: DownloadPlan[];
  extracts: ExtractPlan[];
}

// For manual modules: what the operator gave per file.
export interface GivenFile {
  url: string;
  sha256?: string;
  sumsUrl?: string; // a checksum file listing this file's name
}

// The vars of a release's templates.
export function releaseVars(m: OsModule, version: string): TemplateVars {
  return { ...baseVars(m.upstream.bases), ...versionVars(version) };
}

function lastSegment(url: string): string {
  const p = new URL(url).pathname.split('/').pop() ?? '';
  return decodeURIComponent(p);
}

function urlOf(m: OsModule, f: ModuleFile, rel: UpstreamRelease, vars: TemplateVars): string {
  if (f.from.kind === 'url') return expandTemplate(f.from.url, vars, `${m.name} file ${f.name}`);
  if (f.from.kind === 'asset') {
    const name = expandTemplate(f.from.asset, vars, `${m.name} file ${f.name}`);
    const a = rel.assets?.get(name);
    if (!a) throw new XepaError('ERR_FETCH_HTTP', `${m.name} ${rel.version}: upstream lists no asset ${name}`);
    return a.url;
  }
  throw new XepaError('ERR_MODULE_INVALID', `${m.name} file ${f.name} is not downloaded`);
}

// Plans an upstream release: URLs from the module's templates or the API's assets, digests from its checksum source.
export async function planRelease(m: OsModule, rel: UpstreamRelease, http: TextRequest = {}, given?: Record<string, GivenFile>): Promise<ReleasePlan> {
  const vars = releaseVars(m, rel.version);
  const cs = m.upstream.checksums;
  const downloads: DownloadPlan[] = [];
  const extracts: ExtractPlan[] = [];
  let sums: Map<string, string> | undefined;
  let signedSums: Map<string, string> | undefined;
  const sumsCache = new Map<string, Map<string, string>>();
  for (const f of m.files) {
    if (f.from.kind === 'archive') {
      extracts.push({ file: f, archive: f.from.archive, member: f.from.member });
      continue;
    }
    if (f.from.kind === 'given') {
      const g = given?.[f.name];
      if (!g) throw new XepaError('ERR_BAD_REQUEST', `${m.name} ${rel.version}: give the URL and digest of ${f.name}`);
      let hex = g.sha256?.toLowerCase();
      if (!hex && g.sumsUrl) {
        let table = sumsCache.get(g.sumsUrl);
        if (!table) sumsCache.set(g.sumsUrl, (table = parseSums(await fetchText(g.sumsUrl, http), 'sha256')));
        hex = requireDigest(table, lastSegment(g.url), g.sumsUrl);
      }
      if (!hex || !/^[0-9a-f]{64}$/.test(hex)) throw new XepaError('ERR_BAD_REQUEST', `${m.name} ${rel.version}: ${f.name} needs a sha256 (64 hex digits) or a checksum file`);
      downloads.push({ file: f, url: g.url, expected: { algorithm: 'sha256', hex } });
      continue;
    }
    const url = urlOf(m, f, rel, vars);
    let hex: string | undefined;
    switch (cs.kind) {
      case 'sums-file': {
        const sumsUrl = expandTemplate(cs.url, vars, `${m.name} checksums url`);
        sums ??= parseSums(await fetchText(sumsUrl, http), cs.algorithm);
        hex = requireDigest(sums, lastSegment(url), sumsUrl);
        break;
      }
      case 'per-file': {
        const sumUrl = url + cs.suffix;
        hex = parseSingleSum(await fetchText(sumUrl, http), cs.algorithm, lastSegment(url));
        if (!hex) throw new XepaError('ERR_FETCH_DIGEST', `${sumUrl} has no ${cs.algorithm} digest for ${lastSegment(url)}`);
        break;
      }
      case 'asset-digest': {
        const asset = [...(rel.assets?.values() ?? [])].find((a) => a.url === url);
        hex = parseAssetDigest(asset?.digest, cs.algorithm);
        if (!hex) throw new XepaError('ERR_FETCH_DIGEST', `${m.name} ${rel.version}: the API gives no ${cs.algorithm} digest for ${f.name}`);
        break;
      }
      case 'signed-sums-file': {
        const s = rel.signedSums;
        if (!s) throw new XepaError('ERR_MODULE_INVALID', `${m.name} ${rel.version}: the source gave no signed checksum file`);
        signedSums ??= parseSumsByPath(await fetchSignedSums(s, http));
        const rel_ = pathUnder(s.url, url);
        hex = rel_ === undefined ? undefined : signedSums.get(rel_);
        if (!hex) throw new XepaError('ERR_FETCH_DIGEST', `${s.url} has no digest for ${rel_ ?? url}: refusing to download an unverifiable file`);
        break;
      }
      case 'given':
        throw new XepaError('ERR_MODULE_INVALID', `${m.name}: 'given' checksums need given files`);
    }
    downloads.push({ file: f, url, expected: { algorithm: cs.algorithm, hex } });
  }
  return { version: rel.version, downloads, extracts };
}
