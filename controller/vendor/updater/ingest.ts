// Brings one planned release into the store: downloads (verified while streaming), archive members, and for
// kernel+initrd modules the wrapped boot ISO. Every file is in the store, digest-checked, before the index names it.
import type * as childProcess from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileUrl } from '../catalog/urls.js';
import { renderCmdline } from '../os/cmdline.js';
import type { OsModule } from '../os/schema.js';
import type { Release, Store, StoredFile } from '../store/index.js';
import { downloadVerified, extractTarMembers, type FetchFn, type ReleasePlan } from '../upstream/index.js';
import { buildBootIso } from './boot-iso.js';
import type { UpdateProgress } from './progress.js';

// The name of the GRUB ISO built from a kernel+initrd release.
export const BOOT_ISO_NAME = 'xepa-boot.iso';

// What ingesting needs.
export interface IngestDeps {
  store: Store;
  fetch?: FetchFn;
  signal?: AbortSignal;
  progress?: (p: UpdateProgress) => void;
  spawn?: typeof childProcess.spawn;
  publicUrl?: string | undefined;
}

// Downloads and extracts every file of `plan`; throws (leaving no blob of a bad file) on the first failure.
export async function ingestRelease(m: OsModule, plan: ReleasePlan, d: IngestDeps): Promise<StoredFile[]> {
  const files: StoredFile[] = [];
  const say = (message: string, extra: Partial<UpdateProgress> = {}): void => d.progress?.({ os: m.name, version: plan.version, step: 'download', message, ...extra });
  for (const p of plan.downloads) {
    say(`downloading ${p.file.name} from ${p.url}`);
    let last = 0;
    const ref = await downloadVerified(p.url, p.expected, d.store.blobs, {
      fetch: d.fetch,
      signal: d.signal,
      onProgress: (bytes, total) => {
        const now = Date.now();
        if (now - last < 1000) return;
        last = now;
        say(`${p.file.name}: ${(bytes / 1048576).toFixed(1)}${total ? ` of ${(total / 1048576).toFixed(1)}` : ''} MiB`, { bytes, ...(total ? { total } : {}) });
      },
    });
    d.progress?.({ os: m.name, version: plan.version, step: 'verify', message: `${p.file.name}: ${p.expected.algorithm} matches upstream (${ref.size} bytes)` });
    files.push({ name: p.file.name, role: p.file.role, sha256: ref.sha256, size: ref.size, origin: p.url, upstreamDigest: p.expected });
  }
  const byArchive = new Map<string, typeof plan.extracts>();
  for (const e of plan.extracts) byArchive.set(e.archive, [...(byArchive.get(e.archive) ?? []), e]);
  for (const [archive, list] of byArchive) {
    const src = files.find((f) => f.name === archive)!;
    d.progress?.({ os: m.name, version: plan.version, step: 'extract', message: `extracting ${list.map((e) => e.member).join(', ')} from ${archive}` });
    const got = await extractTarMembers(d.store.blobs.blobPath(src.sha256), list.map((e) => e.member), d.store.blobs);
    for (const e of list) {
      const ref = got.get(e.member.replace(/^(\.\/)+/, '').replace(/^\/+/, ''))!;
      files.push({ name: e.file.name, role: e.file.role, sha256: ref.sha256, size: ref.size, origin: `archive:${archive}!${e.member}` });
    }
  }
  return files;
}

// Builds the wrapped boot ISO of a stored kernel+initrd release (undefined for ISO modules or wrapIso: false).
export async function wrapBootIso(m: OsModule, r: Release, d: IngestDeps): Promise<StoredFile | undefined> {
  if (m.boot.method !== 'kernel-initrd' || !m.boot.wrapIso) return undefined;
  const boot = m.boot;
  const blob = (n: string): string => d.store.blobs.blobPath(r.files.find((f) => f.name === n)!.sha256);
  const script = boot.cmdlineFromFile ? await readFile(blob(boot.cmdlineFromFile), 'utf8') : undefined;
  const cmdline = renderCmdline(m, { version: r.version, fileUrl: (n) => fileUrl(d.publicUrl ?? 'http://xepa-vendor.invalid', m.name, r.version, n), upstreamScript: script });
  d.progress?.({ os: m.name, version: r.version, step: 'wrap', message: `building ${BOOT_ISO_NAME} (GRUB, BIOS) from ${boot.kernel} + ${boot.initrds.join(' + ')}` });
  const ref = await buildBootIso(d.store, { kernel: blob(boot.kernel), initrds: boot.initrds.map(blob), cmdline, title: `${m.title} ${r.version}` }, d.spawn);
  return { name: BOOT_ISO_NAME, role: 'boot-iso', sha256: ref.sha256, size: ref.size, origin: `derived:grub-mkrescue(${boot.kernel},${boot.initrds.join(',')})` };
}
