// The catalog document (`GET /vendor/v1/catalog`): every OS module, its channels, its releases and their files with
// URLs and digests, plus the modules that failed to load. `xepa install --os` resolves through it.
import type { ModuleError } from '../os/load.js';
import type { OsModule } from '../os/schema.js';
import { channelsOf, type ReleaseIndex } from '../store/release-index.js';
import { fileUrl, ipxeUrl } from './urls.js';
import type { CatalogDoc, CatalogOs } from './schema.js';

// The file of a release that an agent install boots: the module's ISO, or the ISO wrapped from kernel+initrd.
export function installIsoName(m: OsModule, files: { name: string; role: string }[]): string | undefined {
  if (m.boot.method === 'iso') return m.boot.iso;
  return files.find((f) => f.role === 'boot-iso')?.name;
}

// One OS's entry.
export function catalogEntry(m: OsModule, idx: ReleaseIndex, base: string): CatalogOs {
  const ch = channelsOf(idx);
  const candidate = idx.releases.find((r) => r.status === 'candidate')?.version;
  return {
    name: m.name,
    title: m.title,
    ...(m.homepage ? { homepage: m.homepage } : {}),
    ...(m.notes ? { notes: m.notes } : {}),
    boot: m.boot.method,
    validation: m.validation.kind,
    promoteAt: m.promoteAt,
    upstream: { source: m.upstream.source.kind, checksums: m.upstream.checksums.kind, signature: m.upstream.signature },
    channels: {
      ...(idx.stable ? { stable: idx.stable } : {}),
      ...(idx.history[0] ? { previous: idx.history[0] } : {}),
      ...(candidate ? { candidate } : {}),
    },
    releases: idx.releases.map((r) => {
      const iso = installIsoName(m, r.files);
      const isoFile = iso ? r.files.find((f) => f.name === iso) : undefined;
      return {
        version: r.version,
        status: r.status,
        channels: ch[r.version] ?? [],
        addedAt: r.addedAt,
        ...(r.promotedAt ? { promotedAt: r.promotedAt } : {}),
        ...(r.validation ? { validation: { status: r.validation.status, kind: r.validation.kind, ...(r.validation.level ? { level: r.validation.level } : {}), at: r.validation.at, ...(r.validation.reason ? { reason: r.validation.reason } : {}) } } : {}),
        ...(r.rejection ? { rejection: r.rejection } : {}),
        files: r.files.map((f) => ({ name: f.name, role: f.role, size: f.size, sha256: f.sha256, url: fileUrl(base, m.name, r.version, f.name), origin: f.origin })),
        ...(isoFile ? { installIso: { name: isoFile.name, url: fileUrl(base, m.name, r.version, isoFile.name), sha256: isoFile.sha256, size: isoFile.size } } : {}),
        ...(m.boot.method === 'kernel-initrd' && r.status !== 'rejected' ? { ipxe: ipxeUrl(base, m.name, r.version) } : {}),
      };
    }),
  };
}

// The whole catalog: modules that loaded (with their indexes) and the ones that did not.
export function buildCatalog(modules: OsModule[], indexes: Map<string, ReleaseIndex | Error>, errors: ModuleError[], base: string, now: Date): CatalogDoc {
  const os: CatalogOs[] = [];
  const problems = errors.map((e) => ({ module: e.module, source: e.source, message: e.message }));
  for (const m of modules) {
    const idx = indexes.get(m.name);
    if (idx instanceof Error) {
      problems.push({ module: m.name, source: 'store', message: idx.message });
      continue;
    }
    os.push(catalogEntry(m, idx ?? { os: m.name, updatedAt: now.toISOString(), releases: [], history: [] }, base));
  }
  return { catalog: 1, generatedAt: now.toISOString(), baseUrl: base, os, errors: problems };
}
