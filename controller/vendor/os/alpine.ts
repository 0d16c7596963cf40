// Alpine Linux: the netboot files the rescue system boots (vmlinuz-lts, initramfs-lts, modloop-lts).
import type { OsModuleInput } from './schema.js';

// The Alpine module: latest-releases.yaml names the release; the netboot tarball and its .sha256 carry the files.
export const alpine: OsModuleInput = {
  name: 'alpine',
  title: 'Alpine Linux netboot (XEPA rescue base)',
  homepage: 'https://alpinelinux.org/',
  notes: 'The files come out of the verified alpine-netboot tarball. Per host, {config} is an apkovl overlay ' +
    '(apkovl.tar.gz) that starts the XEPA agent with its config (DESIGN §7).',
  boot: {
    method: 'kernel-initrd',
    kernel: 'vmlinuz-lts',
    initrds: ['initramfs-lts'],
    cmdline: 'console=tty0 console=ttyS0,115200 ip=dhcp modules=loop,squashfs,sd-mod,usb-storage ' +
      'alpine_repo={base.cdn}/v{major}.{minor}/main modloop={file:modloop-lts} [[apkovl={config}]]',
    configName: 'apkovl.tar.gz',
  },
  files: [
    { name: 'netboot.tar.gz', role: 'archive', from: { kind: 'url', url: '{base.cdn}/v{major}.{minor}/releases/x86_64/alpine-netboot-{version}-x86_64.tar.gz' } },
    { name: 'vmlinuz-lts', role: 'kernel', from: { kind: 'archive', archive: 'netboot.tar.gz', member: 'boot/vmlinuz-lts' } },
    { name: 'initramfs-lts', role: 'initramfs', from: { kind: 'archive', archive: 'netboot.tar.gz', member: 'boot/initramfs-lts' } },
    { name: 'modloop-lts', role: 'modloop', from: { kind: 'archive', archive: 'netboot.tar.gz', member: 'boot/modloop-lts' } },
  ],
  upstream: {
    bases: { cdn: 'https://dl-cdn.alpinelinux.org/alpine' },
    source: { kind: 'release-feed', url: '{base.cdn}/latest-stable/releases/x86_64/latest-releases.yaml', format: 'regex', versionPattern: 'version:\\s*(\\d+\\.\\d+\\.\\d+)' },
    checksums: { kind: 'per-file', suffix: '.sha256', algorithm: 'sha256' },
    signature: { kind: 'gpg', url: '{base.cdn}/v{major}.{minor}/releases/x86_64/alpine-netboot-{version}-x86_64.tar.gz.asc', keys: ['ncopa (Alpine release key, alpinelinux.org/keys/ncopa.asc)'] },
  },
  validation: { kind: 'kernel-boot', marker: 'Alpine Init', timeoutSeconds: 300, memoryMiB: 1024 },
};
