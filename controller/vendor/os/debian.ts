// Debian 12 (bookworm): the Debian installer's netboot kernel and initrd, as Debian's archive publishes them — the
// suite's InRelease (verified with gpgv against debian-archive-keyring) lists the installer's SHA256SUMS with its
// digest, and SHA256SUMS lists the netboot files (upstream/debian-release.ts).
import type { OsModuleInput } from './schema.js';

const NETBOOT = '{base.mirror}/dists/bookworm/main/installer-amd64/{version}/images/netboot/debian-installer/amd64';

// The Debian module. A release is an installer build (`20230607+deb12u15`), the one `current` names in InRelease.
export const debian: OsModuleInput = {
  name: 'debian',
  title: 'Debian 12 (bookworm) installer, netboot',
  homepage: 'https://www.debian.org/distrib/netinst',
  notes: 'The release is the installer build that the signed InRelease names as current. Per host, {config} is a ' +
    'preseed file (auto=true url=). The installer fetches its components (.udeb) from the mirror: where the mirror ' +
    'refuses .udeb files the installer cannot finish, so validation here reaches level boot only (the installer ' +
    'booted and ran unattended to its network step); promoteAt "boot" accepts that explicitly.',
  boot: {
    method: 'kernel-initrd',
    kernel: 'linux',
    initrds: ['initrd.gz'],
    // locale and keymap answer the first two questions; d-i runs on the last console= (the serial one)
    cmdline: 'priority=critical locale=en_US.UTF-8 keymap=us [[auto=true url={config}]] console=tty0 console=ttyS0,115200',
    configName: 'preseed.cfg',
  },
  files: [
    { name: 'linux', role: 'kernel', from: { kind: 'url', url: `${NETBOOT}/linux` } },
    { name: 'initrd.gz', role: 'initramfs', from: { kind: 'url', url: `${NETBOOT}/initrd.gz` } },
  ],
  upstream: {
    bases: { mirror: 'https://deb.debian.org/debian' },
    source: { kind: 'debian-inrelease', url: '{base.mirror}/dists/bookworm/InRelease', suite: 'bookworm', installer: 'main/installer-amd64' },
    checksums: { kind: 'signed-sums-file', algorithm: 'sha256' },
    signature: { kind: 'gpg', url: '{base.mirror}/dists/bookworm/InRelease', keys: ['debian-archive-keyring (/usr/share/keyrings/debian-archive-keyring.gpg), verified with gpgv'] },
  },
  // The validation VM has no network: after the locale and keymap from the command line the installer detects its
  // hardware and stops at the first question it cannot answer itself (about 5 min under TCG here).
  validation: { kind: 'kernel-boot', marker: 'No network interfaces detected', timeoutSeconds: 900, memoryMiB: 1024 },
};
