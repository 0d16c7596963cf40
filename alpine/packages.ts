// The packages the agent needs on each rescue distribution: node to run the bundle, QEMU, UEFI firmware, a TPM.

// Alpine (Equinix Metal's rescue, our apkovl netboot): community repository packages included.
export const ALPINE_PACKAGES: readonly string[] = [
  'nodejs', // runs the bundle (Alpine 3.18+ ships Node 18 or newer)
  'qemu-system-x86_64',
  'qemu-img',
  'qemu-block-curl', // QEMU's curl block driver, for the HTTP-streamed CD when RAM is short (not built yet)
  'ovmf', // UEFI firmware for hosts booted in UEFI mode
  'swtpm', // optional TPM 2.0 for the guest
  'ca-certificates', // HTTPS ISO downloads
  // the guest's isolated network (agent/vm/guest-net.ts): busybox ip has no netns; sysctl is busybox's
  'iproute2',
  'nftables',
  'socat', // slirp's guestfwd runs it per connection to the answer-file socket
  'sfdisk', // finish: partition-table backups, the ESP and the installed root found on the job's disks
];

// Debian (Hetzner's rescue and other Debian-based ones); Debian 12's nodejs is 18.
export const DEBIAN_PACKAGES: readonly string[] = [
  'nodejs',
  'qemu-system-x86',
  'qemu-utils',
  'qemu-block-extra', // curl block driver (HTTP-streamed CD, not built yet)
  'ovmf',
  'swtpm',
  'ca-certificates', // also read by Debian's node at start (NODE_EXTRA_CA_CERTS)
  // the guest's isolated network (agent/vm/guest-net.ts): ip netns, nft, sysctl; socat for the answer endpoint
  'iproute2',
  'nftables',
  'procps',
  'socat',
  'fdisk', // sfdisk: partition-table backups, the ESP and the installed root found by finish
];

// The base of /etc/apk/world in a netbooted Alpine: the apkovl replaces the whole file, so it must keep these.
export const ALPINE_BASE_WORLD: readonly string[] = ['alpine-base'];

// The oldest Node major version the agent bundle runs on.
export const MIN_NODE_MAJOR = 18;
