import type { CatalogDoc, UpdateResult, VerifyResult } from '../../vendor/index.js';
import { bytes, table } from '../output.js';

// The catalog as tables: one line per OS, or (one OS) one line per release.
export function renderCatalog(doc: CatalogDoc, detailed: boolean): string {
  const out: string[] = [];
  if (!detailed) {
    const levelOf = (m: CatalogDoc['os'][number], v: string | undefined): string => m.releases.find((r) => r.version === v)?.validation?.level ?? '-';
    out.push(table([['OS', 'BOOT', 'STABLE', 'LEVEL', 'CANDIDATE', 'LEVEL', 'PREVIOUS', 'SOURCE', 'VALIDATION', 'PROMOTES AT'], ...doc.os.map((m) => [
      m.name, m.boot, m.channels.stable ?? '-', levelOf(m, m.channels.stable), m.channels.candidate ?? '-', levelOf(m, m.channels.candidate),
      m.channels.previous ?? '-', m.upstream.source, m.validation, m.promoteAt ?? 'install',
    ])]));
  } else {
    for (const m of doc.os) {
      out.push(`${m.title} (${m.name}): boots ${m.boot}, validation ${m.validation}, promotes at level ${m.promoteAt ?? 'install'}`);
      if (m.releases.length === 0) out.push('no releases yet');
      else out.push(table([['VERSION', 'STATUS', 'CHANNELS', 'LEVEL', 'VALIDATION', 'FILES'], ...m.releases.map((r) => [
        r.version, r.status, r.channels.join(',') || '-', r.validation?.level ?? '-',
        r.rejection ? `rejected: ${r.rejection.reason}` : r.validation ? `${r.validation.status}${r.validation.reason ? `: ${r.validation.reason}` : ''}` : '-',
        r.files.map((f) => `${f.name} (${bytes(f.size)})`).join(', ') || '-',
      ])]));
    }
  }
  for (const e of doc.errors) out.push(`broken module ${e.module} (${e.source}): ${e.message}`);
  return out.join('\n');
}

// The updater's summary: one line per OS.
export function renderResults(results: UpdateResult[]): string {
  return table([['OS', 'VERSION', 'RESULT', 'STABLE', 'DETAIL'], ...results.map((r) => [
    r.os, r.version ?? '-', r.action, r.stable ?? '-', `${r.code ? `${r.code}: ` : ''}${r.detail}`,
  ])]);
}

// Verification: failures first, then a count.
export function renderVerify(results: VerifyResult[]): string {
  const bad = results.filter((r) => !r.ok);
  const lines = bad.map((r) => `DAMAGED ${r.os} ${r.version} ${r.file} (${r.sha256.slice(0, 16)}…): ${r.reason}`);
  lines.push(`${results.length - bad.length} of ${results.length} stored files verified${bad.length ? `, ${bad.length} damaged` : ''}`);
  return lines.join('\n');
}
