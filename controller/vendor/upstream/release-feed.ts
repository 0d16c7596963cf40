// Release source: a feed — Atom or RSS titles, a KEY=VALUE file (Flatcar's version.txt), or a regex over text
// (Alpine's latest-releases.yaml).
import type { ReleaseSource } from '../os/schema.js';

type FeedSource = Extract<ReleaseSource, { kind: 'release-feed' }>;

function unescapeXml(s: string): string {
  return s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

function titles(xml: string, element: 'entry' | 'item'): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(new RegExp(`<${element}[\\s>][\\s\\S]*?</${element}>`, 'g'))) {
    const t = /<title[^>]*>([\s\S]*?)<\/title>/.exec(m[0]);
    if (t) out.push(unescapeXml(t[1]!));
  }
  return out;
}

// Reads versions out of a feed document, in document order.
export function parseReleaseFeed(text: string, src: FeedSource): string[] {
  const pick = (s: string): string | undefined => {
    if (!src.versionPattern) return s.trim() || undefined;
    const m = new RegExp(src.versionPattern).exec(s);
    return m ? (m[1] ?? m[0]) : undefined;
  };
  let raw: (string | undefined)[];
  switch (src.format) {
    case 'atom':
      raw = titles(text, 'entry').map(pick);
      break;
    case 'rss':
      raw = titles(text, 'item').map(pick);
      break;
    case 'key-value': {
      const key = src.key ?? 'VERSION';
      raw = text.split(/\r?\n/).map((l) => /^\s*([A-Za-z0-9_.-]+)\s*=\s*"?([^"]*)"?\s*$/.exec(l)).filter((m) => m?.[1] === key).map((m) => pick(m![2]!));
      break;
    }
    case 'regex': {
      const re = new RegExp(src.versionPattern ?? '(.+)', 'gm');
      raw = [...text.matchAll(re)].map((m) => m[1] ?? m[0]);
      break;
    }
  }
  return [...new Set(raw.filter((v): v is string => Boolean(v)))];
}
