// Release source: a JSON API (GitHub releases, Hydra builds). The module names the fields with dot paths.
import { XepaError } from '../../../agent/protocol/index.js';
import { VERSION, isSafeName } from '../os/names.js';
import type { ReleaseSource } from '../os/schema.js';
import { expandTemplate, type TemplateVars } from '../os/templates.js';
import { getPath } from './json-path.js';
import type { UpstreamAsset, UpstreamRelease } from './release.js';

type JsonApiSource = Extract<ReleaseSource, { kind: 'json-api' }>;

function assetsOf(item: unknown, src: JsonApiSource, version: string, vars: TemplateVars): Map<string, UpstreamAsset> | undefined {
  const a = src.assets;
  if (!a) return undefined;
  const list = getPath(item, a.items);
  const entries: [string, unknown][] = Array.isArray(list) ? list.map((x, i) => [String(i), x]) : list && typeof list === 'object' ? Object.entries(list) : [];
  const out = new Map<string, UpstreamAsset>();
  for (const [key, asset] of entries) {
    const name = getPath(asset, a.name);
    if (typeof name !== 'string' || !name) continue;
    let url: unknown;
    if (a.url) url = getPath(asset, a.url);
    else if (a.urlTemplate) url = expandTemplate(a.urlTemplate, { ...vars, version, 'asset.key': encodeURIComponent(key), 'asset.name': encodeURIComponent(name) }, 'assets.urlTemplate');
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) continue;
    out.set(name, { url, ...(a.digest ? { digest: getPath(asset, a.digest) } : {}) });
  }
  return out;
}

// Reads the releases out of a JSON API answer; entries without a safe version or marked excluded are skipped.
export function parseJsonApi(doc: unknown, src: JsonApiSource, vars: TemplateVars): UpstreamRelease[] {
  const list = src.items === '.' ? [doc] : getPath(doc, src.items);
  if (!Array.isArray(list)) throw new XepaError('ERR_FETCH_HTTP', `the release API answer has no list at "${src.items || '(root)'}"`);
  const out: UpstreamRelease[] = [];
  for (const item of list) {
    const v = getPath(item, src.version);
    const version = typeof v === 'number' ? String(v) : v;
    if (typeof version !== 'string' || !isSafeName(VERSION, version)) continue;
    if (src.exclude.some((p) => Boolean(getPath(item, p)))) continue;
    const assets = assetsOf(item, src, version, vars);
    out.push(assets ? { version, assets } : { version });
  }
  return out;
}
