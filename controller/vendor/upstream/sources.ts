// Asks a module's release source which releases exist: one small adapter per source kind, all fed by fetchText.
import { XepaError } from '../../../agent/protocol/index.js';
import { VERSION, isSafeName } from '../os/names.js';
import type { OsModule } from '../os/schema.js';
import { baseVars, expandTemplate } from '../os/templates.js';
import { parseDirectoryListing } from './directory-listing.js';
import { listDebianReleases } from './debian-release.js';
import type { TextRequest } from './http.js';
import { fetchText } from './http.js';
import { parseJsonApi } from './json-api.js';
import { parseReleaseFeed } from './release-feed.js';
import type { UpstreamRelease } from './release.js';

// Fetches and parses the module's release list; versions that are not safe names are dropped.
export async function listUpstreamReleases(m: OsModule, http: TextRequest = {}): Promise<UpstreamRelease[]> {
  const src = m.upstream.source;
  const vars = baseVars(m.upstream.bases);
  if (src.kind === 'manual') return [];
  const url = expandTemplate(src.url, vars, `${m.name} source url`);
  switch (src.kind) {
    case 'json-api': {
      const text = await fetchText(url, { ...http, headers: { ...http.headers, ...src.headers } });
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new XepaError('ERR_FETCH_HTTP', `${url}: not JSON (${(err as Error).message})`, { cause: err });
      }
      return parseJsonApi(doc, src, vars);
    }
    case 'directory-listing':
      return parseDirectoryListing(await fetchText(url, http), src.versionPattern).filter((v) => isSafeName(VERSION, v)).map((version) => ({ version }));
    case 'release-feed':
      return parseReleaseFeed(await fetchText(url, http), src).filter((v) => isSafeName(VERSION, v)).map((version) => ({ version }));
    case 'debian-inrelease':
      return listDebianReleases(src, url, http);
  }
}
