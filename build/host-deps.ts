// The Debian packages XEPA's demo and its tests need on this host, in two lists, and the apt step that installs
// the missing ones (as root).
import * as childProcess from 'node:child_process';
import { XepaError } from '../agent/protocol/errors.js';

// The Debian packages `xepa demo` needs on this host, for itself and for the agent it starts there: QEMU and its
// firmware and ROMs, the test-ISO builder's tools, loop devices, and every program the agent's install job spawns.
export const DEMO_PACKAGES: readonly string[] = [
  'qemu-system-x86',
  'qemu-utils',
  'ovmf',
  'seabios',
  // QEMU's iPXE ROMs: NIC option ROMs of the agent's VM, and the netboot test (a qemu-system-x86 dependency,
  // named so it is never dropped)
  'ipxe-qemu',
  // the test-ISO builder (build/test-iso: TEST_ISO_PACKAGES), kmod for depmod/modprobe
  'xorriso',
  'grub-pc-bin',
  'grub-common',
  'mtools',
  'busybox-static',
  'cpio',
  'zstd',
  'kmod',
  // losetup and mount: the demo's loop disk
  'mount',
  'util-linux',
  // the agent: sfdisk backs up partition tables before the install (fidelity and finish, issue 8), swtpm is the
  // VM's TPM 2.0 when the host has one
  'fdisk',
  'swtpm',
  // the guest's isolated network (issue 11, agent/vm/guest-net.ts): ip makes the job's network namespace and veth
  // pair, nft its filter and NAT, sysctl (procps) turns IPv4 forwarding on for it; socat carries slirp's guestfwd
  // connections (the answer endpoint, and in the lab the lab VM's connections to the host's ISO server)
  'iproute2',
  'nftables',
  'procps',
  'socat',
];

// What only the tests, the lab and the benchmarks need on top of DEMO_PACKAGES (`xepa deps --tests`, run by
// `npm test` and `npm run bench`).
export const TEST_PACKAGES: readonly string[] = [
  // xepa inject's integration tests: a real sshd, ssh-keygen, and debootstrap for the Debian root they inject into
  'openssh-server',
  'openssh-client',
  'debootstrap',
  // the consoles (issue 4): a native VNC client for the --vnc-port test, websockify as the benchmark's baseline
  // (socat above also drives the `xepa qmp --listen` test)
  'vncsnapshot',
  'websockify',
  // the web console's browser test (issue 4): headless Debian chromium driven by playwright-core (never a
  // downloaded browser)
  'chromium',
  // reliability (issue 7): curl is the fetch benchmark's baseline (bench/load-fetch.ts)
  'curl',
  // Vendor Services (issue 5): tar for the Alpine netboot tarball fixture
  'tar',
  // fidelity and finish (issue 8): x86_64 UEFI GRUB for the test ISO's UEFI variant (mtools and xorriso above
  // build answer media)
  'grub-efi-amd64-bin',
  // finish writes UEFI boot entries with efibootmgr, and the lab's rescue image carries it (and qemu-img from
  // qemu-utils, sfdisk from fdisk above): every tool the lab copies into its images is required, never "optional"
  'efibootmgr',
  // openssl: test certificates
  'openssl',
  // the landing (issue 14): finish opens installed roots on each filesystem it supports; the tests make them
  // (ext4 also holds the debootstrap images of test/real/landing; mount, ip and sfdisk are in DEMO_PACKAGES)
  'e2fsprogs',
  'xfsprogs',
  'btrfs-progs',
  // the control plane's store (issue 16): its tests and benchmark start a throwaway PostgreSQL 15 cluster from
  // Debian's server binaries (/usr/lib/postgresql/15/bin, test/support/postgres.ts). `xepa serve` itself needs no
  // Debian package for either engine: it speaks to PostgreSQL through the npm client pg, and SQLite is built into
  // better-sqlite3
  'postgresql-15',
  // the real live install (issue 14): live-build builds the Debian live ISO (build/live-iso/), whose live system
  // runs grml-debootstrap; gpgv and debian-archive-keyring check Debian's InRelease (controller/vendor/upstream)
  'live-build',
  'grml-debootstrap',
  'gpgv',
  'debian-archive-keyring',
  // the firmware check of issue 13 (agent/iso/el-torito.ts): GRUB's BIOS-only rescue CD is a real ISO to read
  'grub-rescue-pc',
  // the debian vendor module's test media (build/debian-netboot): apt-get update/download and apt-helper fetch
  // Debian's InRelease, the installer SHA256SUMS and debian-installer-12-netboot-amd64; dpkg-deb (dpkg) unpacks it
  'apt',
];

// Everything: what the demo needs and what only the tests need (`xepa deps --tests`).
export const ALL_PACKAGES: readonly string[] = [...DEMO_PACKAGES, ...TEST_PACKAGES];

// What ensureDebianPackages needs from the outside world.
export interface HostDepsDeps {
  spawn?: typeof childProcess.spawn;
  log?: (line: string) => void;
  // Effective uid; defaults to process.getuid(). Only root may install.
  uid?: number;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(spawn: typeof childProcess.spawn, cmd: string, args: string[], log?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
    });
    let stdout = '';
    let stderr = '';
    const forward = (chunk: string, sink: 'out' | 'err'): void => {
      if (sink === 'out') stdout += chunk;
      else stderr += chunk;
      if (log) for (const line of chunk.split('\n')) if (line.trim()) log(line);
    };
    child.stdout?.setEncoding('utf8').on('data', (c: string) => forward(c, 'out'));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => forward(c, 'err'));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// Is the package installed? dpkg-query prints "install ok installed" for a fully installed package.
async function isInstalled(spawn: typeof childProcess.spawn, pkg: string): Promise<boolean> {
  const r = await run(spawn, 'dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.code === 0 && r.stdout.trim() === 'install ok installed';
}

// Installs the packages of `pkgs` that are missing (apt-get update once, then install); returns what it installed.
export async function ensureDebianPackages(pkgs: readonly string[], deps: HostDepsDeps = {}): Promise<{ installed: string[] }> {
  const spawn = deps.spawn ?? childProcess.spawn;
  const log = deps.log;
  const missing: string[] = [];
  for (const pkg of pkgs) {
    let ok: boolean;
    try {
      ok = await isInstalled(spawn, pkg);
    } catch (err) {
      throw new XepaError('ERR_CONFIG', `cannot check Debian package ${pkg}: dpkg-query failed to run (is this a Debian host?)`, { cause: err });
    }
    if (!ok) missing.push(pkg);
  }
  if (missing.length === 0) return { installed: [] };

  const uid = deps.uid ?? process.getuid?.() ?? -1;
  if (uid !== 0) {
    throw new XepaError(
      'ERR_CONFIG',
      `missing Debian packages: ${missing.join(' ')}; installing them needs root: run as root, or ` +
        `'sudo apt-get install -y --no-install-recommends ${missing.join(' ')}'`,
      { details: { missing } },
    );
  }
  log?.(`installing Debian packages: ${missing.join(' ')}`);
  const update = await run(spawn, 'apt-get', ['update'], log);
  if (update.code !== 0) {
    throw new XepaError('ERR_CONFIG', `apt-get update failed (exit ${update.code}): ${lastLine(update.stderr)}`, { details: { missing } });
  }
  const install = await run(spawn, 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], log);
  if (install.code !== 0) {
    throw new XepaError('ERR_CONFIG', `apt-get install ${missing.join(' ')} failed (exit ${install.code}): ${lastLine(install.stderr)}`, {
      details: { missing },
    });
  }
  return { installed: missing };
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  return lines[lines.length - 1] ?? '(no output)';
}
