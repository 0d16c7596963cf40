// Version ordering for "latest": numeric runs compare as numbers (v1.10.0 > v1.9.0), other runs as text;
// a version with a pre-release suffix (1.0.0-rc1) sorts before the same version without one.
import { VERSION, isSafeName } from '../os/names.js';

function chunks(v: string): (number | string)[] {
  return (v.replace(/^v/i, '').match(/\d+|[^\d.+-]+/g) ?? []).map((c) => (/^\d+$/.test(c) ? Number(c) : c));
}

// Compares two versions: negative when a < b.
export function compareVersions(a: string, b: string): number {
  const [main1, pre1] = splitPre(a);
  const [main2, pre2] = splitPre(b);
  const x = chunks(main1);
  const y = chunks(main2);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  if (pre1 === pre2) return 0;
  if (pre1 === undefined) return 1;
  if (pre2 === undefined) return -1;
  return compareVersions(pre1, pre2);
}

function splitPre(v: string): [string, string | undefined] {
  const i = v.indexOf('-');
  return i < 0 ? [v, undefined] : [v.slice(0, i), v.slice(i + 1)];
}

// Picks the latest of `versions`: only safe names, matching `include` and not `exclude`, highest first.
export function pickLatest(versions: readonly string[], rule: { include?: string | undefined; exclude?: string | undefined } = {}): string | undefined {
  const inc = rule.include ? new RegExp(rule.include) : undefined;
  const exc = rule.exclude ? new RegExp(rule.exclude) : undefined;
  const ok = versions.filter((v) => isSafeName(VERSION, v) && (!inc || inc.test(v)) && (!exc || !exc.test(v)));
  return ok.sort(compareVersions).at(-1);
}
