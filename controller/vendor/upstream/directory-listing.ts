// Release source: an HTTP directory listing (Apache/nginx autoindex); each link is matched against a version pattern.

// Reads versions from the links of an HTML listing; capture group 1 of `pattern` (or the whole match) is the version.
export function parseDirectoryListing(html: string, pattern: string): string[] {
  const re = new RegExp(pattern);
  const out = new Set<string>();
  for (const m of html.matchAll(/href\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
    const href = (m[1] ?? m[2] ?? '').split(/[?#]/)[0]!;
    if (!href || /^[a-z]+:/i.test(href) && !/^https?:/i.test(href)) continue;
    const trailing = href.endsWith('/');
    const last = href.replace(/\/+$/, '').split('/').pop() ?? '';
    let seg: string;
    try {
      seg = decodeURIComponent(last) + (trailing ? '/' : '');
    } catch {
      continue;
    }
    const v = re.exec(seg);
    if (v) out.add(v[1] ?? v[0]);
  }
  return [...out];
}
