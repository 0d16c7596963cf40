// The zod schema of an OS module: the data that says what an OS needs, where upstream publishes it, how it boots
// and how a new release is validated. Modules are data; this file is the only place their shape is defined.
import { z } from 'zod';
import { FILE_NAME, OS_NAME, isSafeName } from './names.js';

const fileName = z.string().refine((s) => isSafeName(FILE_NAME, s), 'a file name: letters, digits, . _ - (no ..)');
const baseName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a base name: lower-case letters, digits, -');
const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
// A template: `{version}`, `{major}`, `{minor}`, `{patch}`, `{base.NAME}`, `{asset.key}`, `{asset.name}`.
const template = z.string().min(1).max(1000);
const regex = z.string().max(300).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');
const algorithm = z.enum(['sha256', 'sha512']);

// Where one file of a release comes from.
export const FileSource = z.discriminatedUnion('kind', [
  // base URL + path template: `{base.files}/{version}/vmlinuz-amd64`
  z.object({ kind: z.literal('url'), url: template }).strict(),
  // an asset the JSON API lists for the release, by name template
  z.object({ kind: z.literal('asset'), asset: template }).strict(),
  // a member of another (verified) file of the release: a .tar or .tar.gz archive
  z.object({ kind: z.literal('archive'), archive: fileName, member: z.string().min(1).max(300) }).strict(),
  // given by the operator with `xepa vendor add` (URL and digest): the generic ISO
  z.object({ kind: z.literal('given') }).strict(),
]);

// One file the installer needs.
export const ModuleFile = z
  .object({
    name: fileName,
    role: z.enum(['kernel', 'initramfs', 'iso', 'disk-image', 'modloop', 'archive', 'ipxe-script', 'other']),
    from: FileSource,
  })
  .strict();

// How the updater learns which releases exist.
export const ReleaseSource = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('json-api'),
      url: template,
      headers: z.record(z.string().max(200)).default({}),
      // dot path to the list of releases ('' = the document is the list, '.' = the document is one release)
      items: z.string().max(100).default(''),
      version: z.string().min(1).max(100), // dot path to the version inside one release
      exclude: z.array(z.string().max(100)).default([]), // dot paths: a release where one is truthy is skipped
      assets: z
        .object({
          items: z.string().max(100), // dot path (array or object of assets) inside one release
          name: z.string().max(100),
          url: z.string().max(100).optional(), // dot path of the download URL inside one asset
          urlTemplate: template.optional(), // or a template with {asset.key} and {asset.name}
          digest: z.string().max(100).optional(), // dot path of the digest: `sha256:HEX` or bare hex
        })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ kind: z.literal('directory-listing'), url: template, versionPattern: regex }).strict(),
  z
    .object({
      kind: z.literal('release-feed'),
      url: template,
      format: z.enum(['atom', 'rss', 'key-value', 'regex']),
      key: z.string().max(100).optional(), // key-value: the key whose value is the version
      versionPattern: regex.optional(), // applied to each entry; capture group 1 (or the match) is the version
    })
    .strict(),
  // Debian's signed suite index: InRelease, verified with gpgv against the keyrings; the release is the installer
  // build that `<installer>/current` names (the build whose SHA256SUMS digest the index gives for `current` too)
  z
    .object({
      kind: z.literal('debian-inrelease'),
      url: template, // the suite's InRelease: `{base.mirror}/dists/bookworm/InRelease`
      suite: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/), // the codename or suite the signed index must name
      installer: z.string().regex(/^[a-z0-9-]+\/installer-[a-z0-9]+$/).default('main/installer-amd64'),
      keyrings: z.array(z.string().min(1).max(300)).min(1).default(['/usr/share/keyrings/debian-archive-keyring.gpg']),
    })
    .strict(),
  z.object({ kind: z.literal('manual') }).strict(),
]);

// Where the digests upstream publishes come from (every downloaded file is checked against one).
export const ChecksumSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sums-file'), url: template, algorithm }).strict(), // GNU, BSD or DIGESTS format
  z.object({ kind: z.literal('per-file'), suffix: z.string().regex(/^\.[A-Za-z0-9.]+$/), algorithm }).strict(),
  z.object({ kind: z.literal('asset-digest'), algorithm }).strict(), // the JSON API's asset digest field
  z.object({ kind: z.literal('given') }).strict(), // the operator gives it (generic)
  // the checksum file a signed index names with its own digest (Debian: SHA256SUMS listed in InRelease); files are
  // looked up by their path relative to that checksum file
  z.object({ kind: z.literal('signed-sums-file'), algorithm: z.literal('sha256') }).strict(),
]);

// Upstream signatures: declared so operators see what upstream offers. XEPA verifies digests; signatures only where the
// source itself is a signed index (debian-inrelease: gpgv), not these declarations yet.
export const SignatureSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none'), note: z.string().max(300).optional() }).strict(),
  z.object({ kind: z.enum(['gpg', 'minisign', 'sigstore']), url: template, keys: z.array(z.string().max(200)).default([]) }).strict(),
]);

// How a new release proves itself before it is promoted to stable.
export const Validation = z.discriminatedUnion('kind', [
  // kernel+initrd booted with QEMU -kernel/-initrd (TCG) until a serial line contains the marker
  z.object({ kind: z.literal('kernel-boot'), marker: z.string().min(1), timeoutSeconds: z.number().int().min(5).max(3600).default(180), memoryMiB: z.number().int().min(128).max(16384).default(512), append: z.string().max(1000).default('') }).strict(),
  // the ISO booted alone until a serial marker
  z.object({ kind: z.literal('iso-boot'), marker: z.string().min(1), timeoutSeconds: z.number().int().min(5).max(3600).default(300), memoryMiB: z.number().int().min(128).max(16384).default(1024) }).strict(),
  // the ISO installs onto a blank disk until it powers off; then the disk boots alone until the marker
  z.object({ kind: z.literal('iso-install'), bootMarker: z.string().min(1), installTimeoutSeconds: z.number().int().min(5).max(7200).default(600), bootTimeoutSeconds: z.number().int().min(5).max(3600).default(300), diskMiB: z.number().int().min(16).max(65536).default(4096), memoryMiB: z.number().int().min(128).max(16384).default(1024) }).strict(),
  // no automatic validation: a release stays candidate until `xepa vendor promote`
  z.object({ kind: z.literal('manual') }).strict(),
]);

// What a validation kind proves when it passes: `install` (a complete unattended install, then the installed disk
// booted alone to its marker) or `boot` (the installer booted, unattended, to its marker). Manual proves nothing.
export type ValidationLevel = 'install' | 'boot';
export const VALIDATION_LEVELS = ['install', 'boot'] as const;
export function validationLevel(kind: string): ValidationLevel | undefined {
  if (kind === 'iso-install') return 'install';
  if (kind === 'kernel-boot' || kind === 'iso-boot') return 'boot';
  return undefined;
}
// Whether a release validated at `level` may be promoted under the policy `promoteAt`.
export function levelMeets(level: ValidationLevel | undefined, promoteAt: ValidationLevel): boolean {
  if (!level) return false;
  return promoteAt === 'boot' || level === 'install';
}

// How the OS boots.
export const BootMethod = z.discriminatedUnion('method', [
  z.object({ method: z.literal('iso'), iso: fileName }).strict(),
  z
    .object({
      method: z.literal('kernel-initrd'),
      kernel: fileName,
      initrds: z.array(fileName).min(1).max(8),
      // kernel arguments; `{file:NAME}` is a file's URL, `{config}` the host's config URL, `{host}` the host name;
      // a `[[ ... ]]` part is left out when a value inside is unknown (no host, no config)
      cmdline: z.string().max(2000),
      cmdlineFromFile: fileName.optional(), // an upstream iPXE script whose `kernel` line holds arguments (NixOS init=)
      configName: z.string().regex(/^[a-z0-9.-]{1,40}$/).optional(), // the per-host config's kind: `ignition`, `apkovl`
      wrapIso: z.boolean().default(true), // also offer a GRUB ISO built from kernel+initrd (agent installs take ISOs)
    })
    .strict(),
]);

// One OS module.
export const OsModule = z
  .object({
    name: z.string().regex(OS_NAME),
    title: z.string().min(1).max(80),
    homepage: httpUrl.optional(),
    notes: z.string().max(2000).optional(),
    boot: BootMethod,
    files: z.array(ModuleFile).min(1).max(16),
    upstream: z
      .object({
        bases: z.record(baseName, httpUrl).default({}),
        source: ReleaseSource,
        // releases whose version matches `exclude` are never "latest" (pre-releases); `include` narrows further
        latest: z.object({ include: regex.optional(), exclude: regex.optional() }).strict().default({}),
        checksums: ChecksumSource,
        signature: SignatureSource.default({ kind: 'none' }),
      })
      .strict(),
    validation: Validation,
    // the lowest validation level the updater promotes at: `install` unless the operator accepts `boot` (a mirror
    // known to be incomplete, an OS whose validation cannot install): config `modules.NAME.promoteAt`
    promoteAt: z.enum(VALIDATION_LEVELS).default('install'),
  })
  .strict()
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    for (const f of m.files) {
      if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['files'], message: `file ${f.name} is declared twice` });
      names.add(f.name);
    }
    const need = m.boot.method === 'iso' ? [m.boot.iso] : [m.boot.kernel, ...m.boot.initrds, ...(m.boot.cmdlineFromFile ? [m.boot.cmdlineFromFile] : [])];
    for (const n of need) if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['boot'], message: `boot names file ${n}, which is not in files` });
    for (const f of m.files) {
      if (f.from.kind === 'archive' && !m.files.some((a) => a.name === (f.from as { archive: string }).archive && a.from.kind !== 'archive')) {
        ctx.addIssue({ code: 'custom', path: ['files'], message: `${f.name} comes from archive ${f.from.archive}, which is not a downloaded file` });
      }
      if (f.from.kind === 'asset' && !(m.upstream.source.kind === 'json-api' && m.upstream.source.assets)) {
        ctx.addIssue({ code: 'custom', path: ['files'], message: `${f.name} is an asset, but the source lists no assets` });
      }
      if ((f.from.kind === 'given') !== (m.upstream.source.kind === 'manual')) {
        ctx.addIssue({ code: 'custom', path: ['files'], message: `${f.name}: 'given' files go with a 'manual' source, and only they do` });
      }
    }
    if ((m.upstream.checksums.kind === 'signed-sums-file') !== (m.upstream.source.kind === 'debian-inrelease')) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'checksums'], message: "'signed-sums-file' checksums go with a 'debian-inrelease' source, and only they do" });
    }
    if ((m.upstream.checksums.kind === 'given') !== (m.upstream.source.kind === 'manual')) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'checksums'], message: "'given' checksums go with a 'manual' source, and only they do" });
    }
  });

// A validated OS module (defaults filled in).
export type OsModule = z.output<typeof OsModule>;
// An OS module as written (defaults optional).
export type OsModuleInput = z.input<typeof OsModule>;
export type ModuleFile = z.output<typeof ModuleFile>;
export type ReleaseSource = z.output<typeof ReleaseSource>;
export type ChecksumSource = z.output<typeof ChecksumSource>;
export type Validation = z.output<typeof Validation>;
