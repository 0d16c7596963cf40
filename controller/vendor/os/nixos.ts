// NixOS: the netboot kernel and initrd Hydra builds for a release branch, digests from Hydra's JSON API.
import type { OsModuleInput } from './schema.js';

// The NixOS module: Hydra's latest finished `nixos.netboot` build; its build id is the version.
export const nixos: OsModuleInput = {
  name: 'nixos',
  title: 'NixOS (netboot, release 24.11)',
  homepage: 'https://nixos.org/',
  notes: "The kernel needs the init= path of this very build: it is read from the build's netboot.ipxe. " +
    'Follow another release branch by overriding the source URL (a module file in the modules directory).',
  boot: {
    method: 'kernel-initrd',
    kernel: 'bzImage',
    initrds: ['initrd'],
    cmdline: 'console=tty0 console=ttyS0,115200',
    cmdlineFromFile: 'netboot.ipxe',
  },
  files: [
    { name: 'bzImage', role: 'kernel', from: { kind: 'asset', asset: 'bzImage' } },
    { name: 'initrd', role: 'initramfs', from: { kind: 'asset', asset: 'initrd' } },
    { name: 'netboot.ipxe', role: 'ipxe-script', from: { kind: 'asset', asset: 'netboot.ipxe' } },
  ],
  upstream: {
    bases: { hydra: 'https://hydra.nixos.org' },
    source: {
      kind: 'json-api',
      url: '{base.hydra}/job/nixos/release-24.11/nixos.netboot.x86_64-linux/latest-finished',
      headers: { accept: 'application/json' },
      items: '.',
      version: 'id',
      assets: { items: 'buildproducts', name: 'name', urlTemplate: '{base.hydra}/build/{version}/download/{asset.key}/{asset.name}', digest: 'sha256hash' },
    },
    checksums: { kind: 'asset-digest', algorithm: 'sha256' },
    signature: { kind: 'none', note: 'Hydra serves build products over TLS with their sha256 in the build JSON; store paths are signed in the binary cache, not the products' },
  },
  validation: { kind: 'kernel-boot', marker: '<<< NixOS Stage 1 >>>', timeoutSeconds: 900, memoryMiB: 4096 },
};
