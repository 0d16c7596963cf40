// Fake installed-system trees with the real shape of a merged-/usr Debian 12: absolute symlinks (which mean the
// installed system's /, never the host's), unit files under usr/lib/systemd/system, enablement links in etc.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// A tree being built; every path is relative to its root.
export interface FakeRoot {
  root: string;
  file(rel: string, content?: string): Promise<FakeRoot>;
  link(rel: string, target: string): Promise<FakeRoot>;
  unit(name: string): Promise<FakeRoot>;
  enable(name: string, target?: string): Promise<FakeRoot>;
}

// An empty tree in a temp dir.
export async function fakeRoot(): Promise<FakeRoot> {
  const root = await mkdtemp(join(tmpdir(), 'xepa-fake-root-'));
  const r: FakeRoot = {
    root,
    file: async (rel, content = '') => {
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await writeFile(join(root, rel), content);
      return r;
    },
    link: async (rel, target) => {
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await symlink(target, join(root, rel));
      return r;
    },
    unit: (name) => r.file(`usr/lib/systemd/system/${name}`, '[Unit]\n'),
    enable: (name, target = 'multi-user.target') => r.link(`etc/systemd/system/${target}.wants/${name}`, `/lib/systemd/system/${name}`),
  };
  return r;
}

// Debian 12 with systemd as init (merged /usr: /sbin, /lib are links into usr), no network stack yet.
export async function debianBase(): Promise<FakeRoot> {
  const r = await fakeRoot();
  await r.link('sbin', 'usr/sbin');
  await r.link('lib', 'usr/lib');
  await r.file('usr/lib/systemd/systemd', '');
  await r.link('usr/sbin/init', '/lib/systemd/systemd');
  await r.file('usr/lib/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
  await r.link('etc/os-release', '../usr/lib/os-release');
  return r;
}

// What the Debian installer leaves for ifupdown: networking.service enabled, the VM's NIC by name with DHCP.
export async function debianIfupdown(): Promise<FakeRoot> {
  const r = await debianBase();
  await r.unit('networking.service');
  await r.enable('networking.service');
  await r.file('etc/network/interfaces', 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug enp0s2\niface enp0s2 inet dhcp\n');
  await r.file('etc/resolv.conf', 'nameserver 10.0.2.3\n');
  return r;
}
