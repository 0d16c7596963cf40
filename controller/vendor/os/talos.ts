// Talos Linux: kernel + initramfs from GitHub releases, digests in sha256sum.txt, booted by iPXE (or a wrapped ISO).
import type { OsModuleInput } from './schema.js';

// The Talos module: GitHub's JSON API lists releases; assets live under releases/download/<tag>/.
export const talos: OsModuleInput = {
  name: 'talos',
  title: 'Talos Linux',
  homepage: 'https://www.talos.dev/',
  notes: 'Boots the metal kernel and initramfs; the machine config is served per host as {config} (talos.config=). ' +
    'Newer Talos releases are also built by the Image Factory (factory.talos.dev) with extensions; this module takes the plain release.',
  boot: {
    method: 'kernel-initrd',
    kernel: 'vmlinuz-amd64',
    initrds: ['initramfs-amd64.xz'],
    cmdline: 'talos.platform=metal console=tty0 console=ttyS0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 ' +
      'nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512 [[talos.config={config}]]',
    configName: 'machine.yaml',
  },
  files: [
    { name: 'vmlinuz-amd64', role: 'kernel', from: { kind: 'url', url: '{base.files}/{version}/vmlinuz-amd64' } },
    { name: 'initramfs-amd64.xz', role: 'initramfs', from: { kind: 'url', url: '{base.files}/{version}/initramfs-amd64.xz' } },
  ],
  upstream: {
    bases: { api: 'https://api.github.com/repos/siderolabs/talos', files: 'https://github.com/siderolabs/talos/releases/download' },
    source: {
      kind: 'json-api',
      url: '{base.api}/releases?per_page=30',
      headers: { accept: 'application/vnd.github+json' },
      version: 'tag_name',
      exclude: ['draft', 'prerelease'],
    },
    latest: { include: '^v\\d+\\.\\d+\\.\\d+$' },
    checksums: { kind: 'sums-file', url: '{base.files}/{version}/sha256sum.txt', algorithm: 'sha256' },
    signature: { kind: 'none', note: 'release assets are covered by sha256sum.txt and sha512sum.txt; container images are cosign-signed' },
  },
  validation: { kind: 'kernel-boot', marker: '[talos]', timeoutSeconds: 600, memoryMiB: 2048 },
};
