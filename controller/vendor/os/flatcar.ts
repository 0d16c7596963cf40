// Flatcar Container Linux: the PXE kernel and initrd of the stable channel, with a per-host Ignition config.
import type { OsModuleInput } from './schema.js';

// The Flatcar module: `current/version.txt` names the release; every file has a .DIGESTS file (SHA512 section).
export const flatcar: OsModuleInput = {
  name: 'flatcar',
  title: 'Flatcar Container Linux (stable)',
  homepage: 'https://www.flatcar.org/',
  notes: 'The PXE image runs from RAM; the Ignition config served per host ({config}) usually runs flatcar-install ' +
    'to write the disk. Follow beta or alpha by overriding the bases (beta.release.flatcar-linux.net ...).',
  boot: {
    method: 'kernel-initrd',
    kernel: 'flatcar_production_pxe.vmlinuz',
    initrds: ['flatcar_production_pxe_image.cpio.gz'],
    cmdline: 'flatcar.first_boot=1 console=tty0 console=ttyS0,115200n8 [[ignition.config.url={config}]]',
    configName: 'ignition.json',
  },
  files: [
    { name: 'flatcar_production_pxe.vmlinuz', role: 'kernel', from: { kind: 'url', url: '{base.files}/{version}/flatcar_production_pxe.vmlinuz' } },
    { name: 'flatcar_production_pxe_image.cpio.gz', role: 'initramfs', from: { kind: 'url', url: '{base.files}/{version}/flatcar_production_pxe_image.cpio.gz' } },
  ],
  upstream: {
    bases: { feed: 'https://stable.release.flatcar-linux.net/amd64-usr', files: 'https://stable.release.flatcar-linux.net/amd64-usr' },
    source: { kind: 'release-feed', url: '{base.feed}/current/version.txt', format: 'key-value', key: 'FLATCAR_VERSION' },
    checksums: { kind: 'per-file', suffix: '.DIGESTS', algorithm: 'sha512' },
    signature: { kind: 'gpg', url: '{base.files}/{version}/flatcar_production_pxe.vmlinuz.sig', keys: ['Flatcar Image Signing Key (flatcar.org/security/image-signing-key)'] },
  },
  validation: { kind: 'kernel-boot', marker: 'Welcome to Flatcar', timeoutSeconds: 900, memoryMiB: 3072 },
};
