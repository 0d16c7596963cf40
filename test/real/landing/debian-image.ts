// Small bootable Debian 12 disk images, one per network stack, each configured the way its distribution (or
// installer) leaves it for the installer VM's NIC (e1000e at 00:02.0: enp0s2), built with debootstrap from
// Debian packages and cached under ~/.cache/xepa/landing (the .debs in landing/debs, shared by the four builds).
// Booted directly (-kernel/-initrd from the image's /boot): no boot loader is involved in these tests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NetworkStack } from '../../../agent/protocol/index.js';
import { makeLandingDisk, type LandingDisk } from '../../support/landing-disk.js';

const run = promisify(execFile);

// The cache root of the landing images.
export const LANDING_CACHE = join(process.env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa'), 'landing');
// The MAC the installer VM had (XEPA gives the VM the server's MAC) and the metal has.
export const SERVER_MAC = 'a0:36:9f:12:34:56';
// The root filesystem's UUID, as an installer writes it into fstab.
export const ROOT_UUID = '6b1c0f3e-8d2a-4b5c-9e7f-0a1b2c3d4e5f';
// The line the image's report unit prints on the serial console once sshd has started.
export const BOOTED_MARKER = 'XEPA-LANDING-BOOTED';
export const REPORT_END = 'XEPA-LANDING-END';
// Bump when the configuration below changes (it is part of the cache key).
const RECIPE = '3';

const COMMON = ['systemd-sysv', 'udev', 'openssh-server', 'iproute2', 'kmod', 'initramfs-tools', 'linux-image-cloud-amd64', 'netbase'];
// The packages each stack's system has, as its installer would put them there.
const STACK_PACKAGES: Record<NetworkStack, string[]> = {
  ifupdown: ['ifupdown', 'isc-dhcp-client'],
  'systemd-networkd': [],
  netplan: ['netplan.io'],
  // debootstrap does not resolve virtual packages: dbus provides default-dbus-system-bus, libpam-systemd logind (what apt picks)
  'network-manager': ['network-manager', 'dbus', 'libpam-systemd', 'ifupdown'],
};

// A built image: the disk (GPT, ESP, ext4 root), the kernel and initramfs to boot it, the SSH key that logs in.
export interface LandingImage {
  stack: NetworkStack;
  disk: LandingDisk;
  kernel: string;
  initrd: string;
  sshKey: string;
  packages: string[];
  builtSeconds: number;
}

// Returns the cached image of `stack`, building it first (debootstrap: a few minutes, Debian's mirror needed).
export async function ensureLandingImage(stack: NetworkStack, log: (l: string) => void = () => undefined): Promise<LandingImage> {
  const packages = [...COMMON, ...STACK_PACKAGES[stack]];
  const key = createHash('sha256').update(JSON.stringify({ stack, packages, RECIPE, suite: 'bookworm', config: configure.toString() })).digest('hex').slice(0, 12);
  const dir = join(LANDING_CACHE, `${stack}-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) return JSON.parse(await readFile(manifest, 'utf8')) as LandingImage;
  await mkdir(join(LANDING_CACHE, 'debs'), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const started = Date.now();
  try {
    const tree = join(tmp, 'tree');
    const mirror = process.env.XEPA_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
    log(`landing image ${stack}: debootstrap bookworm with ${packages.join(',')}`);
    await run('debootstrap', ['--variant=minbase', `--cache-dir=${join(LANDING_CACHE, 'debs')}`, `--include=${packages.join(',')}`, 'bookworm', tree, mirror], { maxBuffer: 256 * 2 ** 20 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `xepa-landing-${stack}`, '-f', join(tmp, 'id_ed25519')]);
    await configure(tree, stack, (await readFile(join(tmp, 'id_ed25519.pub'), 'utf8')).trim());
    const boot = await readdir(join(tree, 'boot'));
    const vmlinuz = boot.find((n) => n.startsWith('vmlinuz-'));
    const initrd = boot.find((n) => n.startsWith('initrd.img-'));
    if (!vmlinuz || !initrd) throw new Error(`the ${stack} image has no kernel or initramfs in /boot (${boot.join(', ')})`);
    await run('cp', [join(tree, 'boot', vmlinuz), join(tmp, 'vmlinuz')]);
    await run('cp', [join(tree, 'boot', initrd), join(tmp, 'initrd.img')]);
    const disk = await makeLandingDisk({ image: join(tmp, 'disk.img'), sizeMiB: 1536, fs: 'ext4', tree, uuid: ROOT_UUID });
    await rm(tree, { recursive: true, force: true });
    const img: LandingImage = {
      stack,
      disk: { ...disk, image: join(dir, 'disk.img') },
      kernel: join(dir, 'vmlinuz'),
      initrd: join(dir, 'initrd.img'),
      sshKey: join(dir, 'id_ed25519'),
      packages,
      builtSeconds: Math.round((Date.now() - started) / 1000),
    };
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(img, null, 1));
    await rm(dir, { recursive: true, force: true });
    await run('mv', [tmp, dir]);
    log(`landing image ${stack}: built in ${img.builtSeconds} s`);
    return img;
  } catch (err) {
    await run('umount', ['-R', join(tmp, 'tree', 'proc')]).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

// The installed system: fstab, hostname, root's key, the report unit, and the network as the stack's own
// installer leaves it for the VM's NIC (named enp0s2 there). Nothing here knows the metal.
async function configure(tree: string, stack: NetworkStack, pubKey: string): Promise<void> {
  const put = async (rel: string, text: string, mode = 0o644): Promise<void> => {
    await mkdir(join(tree, rel, '..'), { recursive: true });
    await writeFile(join(tree, rel), text, { mode });
  };
  const chroot = (...args: string[]) => run('chroot', [tree, ...args], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
  await put('etc/hostname', `landing-${stack}\n`);
  await put('etc/hosts', `127.0.0.1 localhost\n127.0.1.1 landing-${stack}\n`);
  await put('etc/fstab', `UUID=${ROOT_UUID} / ext4 errors=remount-ro 0 1\n`);
  await put('root/.ssh/authorized_keys', `${pubKey}\n`, 0o600);
  // Test scaffolding, not network configuration: prints the boot's network state on the serial console.
  await put('etc/systemd/system/xepa-landing-report.service', `[Unit]
Description=XEPA landing test: report the network on the serial console
After=ssh.service network.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo ${BOOTED_MARKER}; ip -br link; ip -br addr; ip route; ip -6 route; echo ${REPORT_END}'
StandardOutput=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
`);
  await chroot('systemctl', 'enable', 'xepa-landing-report.service');
  if (stack === 'ifupdown') {
    // What debian-installer writes for a NIC it configured with DHCP; ifupdown's package enables networking.service.
    await put('etc/network/interfaces', `# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug enp0s2
iface enp0s2 inet dhcp
`);
  }
  if (stack === 'systemd-networkd') {
    await put('etc/systemd/network/20-wired.network', '[Match]\nName=enp0s2\n\n[Network]\nDHCP=yes\n');
    await chroot('systemctl', 'enable', 'systemd-networkd.service');
  }
  if (stack === 'netplan') {
    // cloud-init's style: the NIC matched by the VM's MAC (the server's) and renamed to the VM's name, DHCP.
    await put('etc/netplan/50-cloud-init.yaml', `network:
  version: 2
  ethernets:
    enp0s2:
      match:
        macaddress: "${SERVER_MAC}"
      set-name: enp0s2
      dhcp4: true
`, 0o600);
  }
  if (stack === 'network-manager') {
    // Debian's NetworkManager: ifupdown keeps lo, NM makes its automatic DHCP connection for the NIC.
    await put('etc/network/interfaces', 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n');
  }
  await chroot('apt-get', 'clean');
}
