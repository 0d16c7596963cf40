// FreeBSD: the release disc1 ISO, digests in the release's CHECKSUM.SHA256 file (BSD format).
import type { OsModuleInput } from './schema.js';

// The FreeBSD module: the ISO-IMAGES directory listing names the releases (`14.1/`).
export const freebsd: OsModuleInput = {
  name: 'freebsd',
  title: 'FreeBSD (amd64 disc1 ISO)',
  homepage: 'https://www.freebsd.org/',
  notes: "Installed as an ISO in the VM (bsdinstall on VNC, or an installerconfig). The ISO's loader talks on the VGA " +
    'console, not serial, so there is no serial marker to wait for: releases wait for `xepa vendor promote` ' +
    '(or override validation with iso-install and a marker your installerconfig prints).',
  boot: { method: 'iso', iso: 'disc1.iso' },
  files: [
    { name: 'disc1.iso', role: 'iso', from: { kind: 'url', url: '{base.files}/{version}/FreeBSD-{version}-RELEASE-amd64-disc1.iso' } },
  ],
  upstream: {
    bases: { files: 'https://download.freebsd.org/releases/amd64/amd64/ISO-IMAGES' },
    source: { kind: 'directory-listing', url: '{base.files}/', versionPattern: '^(\\d+\\.\\d+)/?$' },
    checksums: { kind: 'sums-file', url: '{base.files}/{version}/CHECKSUM.SHA256-FreeBSD-{version}-RELEASE-amd64', algorithm: 'sha256' },
    signature: { kind: 'none', note: 'the checksums are also published in the PGP-signed release announcement' },
  },
  validation: { kind: 'manual' },
};
