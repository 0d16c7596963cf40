import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RootTree, detectNetworkStack } from '../../../agent/landing/index.js';
import { debianBase, debianIfupdown, fakeRoot, type FakeRoot } from './fake-root.js';

const made: FakeRoot[] = [];
const track = async (p: Promise<FakeRoot>): Promise<FakeRoot> => {
  const r = await p;
  made.push(r);
  return r;
};
afterEach(async () => {
  for (const r of made.splice(0)) await rm(r.root, { recursive: true, force: true });
});
const detect = (r: FakeRoot) => detectNetworkStack(new RootTree(r.root));

describe('network stack detection', () => {
  it('finds ifupdown on a Debian install by networking.service enabled and /etc/network/interfaces', async () => {
    const r = await track(debianIfupdown());
    const d = await detect(r);
    expect(d).toMatchObject({ init: 'systemd', chosen: 'ifupdown', os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, resolved: false, resolvconf: false });
    expect(d.enabled[0]!.evidence).toContain('etc/systemd/system/multi-user.target.wants/networking.service');
    expect(d.existing).toEqual(['etc/network/interfaces']);
  });

  it('does not take an installed but disabled stack for the one in use (directories and unit files are not enablement)', async () => {
    const r = await track(debianIfupdown());
    await r.unit('NetworkManager.service');
    await r.file('etc/NetworkManager/NetworkManager.conf', '[main]\nplugins=ifupdown,keyfile\n');
    await r.unit('systemd-networkd.service');
    await r.file('etc/systemd/network/.keep');
    await r.file('usr/lib/systemd/system-generators/netplan');
    const d = await detect(r);
    expect(d.enabled.map((e) => e.stack)).toEqual(['ifupdown']);
    expect(d.chosen).toBe('ifupdown');
  });

  it('prefers NetworkManager over the ifupdown a Debian desktop keeps enabled for lo', async () => {
    const r = await track(debianIfupdown());
    await r.unit('NetworkManager.service');
    await r.enable('NetworkManager.service');
    await r.link('etc/systemd/system/dbus-org.freedesktop.NetworkManager.service', '/lib/systemd/system/NetworkManager.service');
    const d = await detect(r);
    expect(d.chosen).toBe('network-manager');
    expect(d.enabled.map((e) => e.stack)).toEqual(['network-manager', 'ifupdown']);
    expect(d.why).toMatch(/network-manager, ifupdown are enabled; network-manager owns the NIC/);
  });

  it('finds systemd-networkd by its enablement links, and systemd-resolved beside it', async () => {
    const r = await track(debianBase());
    for (const u of ['systemd-networkd.service', 'systemd-networkd.socket', 'systemd-resolved.service']) await r.unit(u);
    await r.enable('systemd-networkd.service');
    await r.enable('systemd-networkd.socket', 'sockets.target');
    await r.enable('systemd-resolved.service');
    await r.file('etc/systemd/network/20-wired.network', '[Match]\nName=enp0s2\n[Network]\nDHCP=yes\n');
    const d = await detect(r);
    expect(d).toMatchObject({ chosen: 'systemd-networkd', resolved: true, existing: ['etc/systemd/network/20-wired.network'] });
  });

  it('ignores a masked unit even with enablement links left over', async () => {
    const r = await track(debianBase());
    await r.unit('systemd-networkd.service');
    await r.enable('systemd-networkd.service');
    await r.link('etc/systemd/system/systemd-networkd.service', '/dev/null');
    const d = await detect(r);
    expect(d.chosen).toBeUndefined();
    expect(d.why).toMatch(/no network stack is enabled/);
  });

  it('finds netplan by its generator and YAML, with the renderer the YAML names', async () => {
    const r = await track(debianBase());
    await r.file('usr/lib/systemd/system-generators/netplan');
    await r.file('etc/netplan/01-network-manager-all.yaml', 'network:\n  version: 2\n  renderer: NetworkManager\n');
    await r.unit('NetworkManager.service');
    await r.enable('NetworkManager.service');
    const d = await detect(r);
    expect(d).toMatchObject({ chosen: 'netplan', netplanRenderer: 'NetworkManager' });
  });

  it('does not call netplan YAML without the generator netplan', async () => {
    const r = await track(debianIfupdown());
    await r.file('etc/netplan/50-cloud-init.yaml', 'network: {version: 2}\n');
    expect((await detect(r)).chosen).toBe('ifupdown');
  });

  it('reads an OpenRC system (Alpine) and a tree with no os-release as what they are', async () => {
    const alpine = await track(fakeRoot());
    await alpine.file('bin/busybox');
    await alpine.link('sbin/init', '/bin/busybox');
    await alpine.file('sbin/openrc');
    await alpine.file('etc/os-release', 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n');
    await alpine.link('etc/runlevels/boot/networking', '/etc/init.d/networking');
    await alpine.file('etc/network/interfaces', 'auto eth0\niface eth0 inet dhcp\n');
    expect(await detect(alpine)).toMatchObject({ init: 'openrc', chosen: 'ifupdown', os: { id: 'alpine' } });
    const bare = await track(fakeRoot());
    expect(await detect(bare)).toMatchObject({ init: 'unknown', enabled: [] });
    expect((await detect(bare)).os).toBeUndefined();
  });
});
