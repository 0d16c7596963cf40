import { afterAll, describe, expect, it } from 'vitest';
import { resolveDisks } from '../../../agent/host/index.js';
import { type PciContext, planPassthrough, readPciContext, resolveNics } from '../../../agent/pci/index.js';
import { type PassthroughMode, isXepaError } from '../../../agent/protocol/index.js';
import type { FakeHost, FakeHostTree, FakePciDevice } from '../host/fake-sysfs.js';
import { nvmeDisk, pciDevice, pciNic, sataDisk } from '../host/fake-sysfs.js';
import { fakeServer } from '../host/fake-server.js';
import { addrsOf, build, pciServer } from './fake-pci-host.js';

const trees: FakeHostTree[] = [];
afterAll(async () => Promise.all(trees.map((t) => t.cleanup())));

// The controller reaches the agent from 192.0.2.1 (eth0's /24) and the agent answers on 192.0.2.10.
const PEER = { remote: '192.0.2.1', local: '192.0.2.10' };

async function context(desc: FakeHost, peers = [PEER]): Promise<PciContext> {
  const t = await build(desc, trees);
  return readPciContext({ sysfs: t.sysfs, procfs: t.procfs, devRoot: t.devRoot, networkInterfaces: addrsOf('eth0', '192.0.2.10') }, peers);
}

function decide(ctx: PciContext, o: { disks?: string[]; nics?: string[]; mode?: PassthroughMode; force?: string }) {
  const disks = resolveDisks((o.disks ?? []).map((serial) => ({ serial })), ctx.view.disks);
  const nics = resolveNics((o.nics ?? []).map((name) => ({ name })), ctx.view.nics);
  return planPassthrough({ ...ctx, disks, nics, mode: o.mode ?? 'auto', ...(o.force ? { force: o.force } : {}) });
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isXepaError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

const base = fakeServer();
const extraPci = (...d: FakePciDevice[]): FakeHost => pciServer({ pci: [...base.pci!, ...d] });

describe('the protected set', () => {
  it('protects the controller NIC, its group mate, and the controllers of mounted, swap and LVM disks', async () => {
    const ctx = await context(pciServer());
    const reasons = (bdf: string): string[] => (ctx.protections.get(bdf) ?? []).map((p) => (p.group ? `group ${p.group.group} via ${p.group.member}: ${p.text}` : p.text));
    expect(reasons('0000:03:00.0')).toEqual(['the NIC eth0 carrying the controller connection']);
    expect(reasons('0000:03:00.1')).toEqual(['group 6 via 0000:03:00.0: the NIC eth0 carrying the controller connection']);
    expect(reasons('0000:01:00.0')).toEqual(['the controller of nvme0n1 (mounted at /boot/efi (nvme0n1p1), holder dm-0 (nvme0n1p2))']);
    expect(reasons('0000:00:1f.2')[0]).toMatch(/^the controller of sda \(swap \(sda1\)\)/);
    expect(ctx.protections.has('0000:02:00.0')).toBe(false);
    expect(ctx.protections.get('0000:03:00.0')![0]!.overridable).toBe(false);
  });

  it('refuses a NIC sharing an IOMMU group with the management NIC, naming the group and the reason', async () => {
    const ctx = await context(pciServer());
    expect(refusal(() => decide(ctx, { nics: ['eth1'] }))).toEqual({
      code: 'ERR_DEVICE_PROTECTED',
      message: 'cannot bind 0000:03:00.1 to vfio-pci: IOMMU group 6 also contains 0000:03:00.0 (the NIC eth0 carrying the controller connection)',
    });
  });

  it('refuses the management NIC itself even with forceProtected', async () => {
    const ctx = await context(pciServer());
    expect(refusal(() => decide(ctx, { nics: ['eth0'], force: 'I know better' })).code).toBe('ERR_DEVICE_PROTECTED');
  });

  it('counts every default-route NIC as the controller one when the peer is unknown', async () => {
    const ctx = await context(pciServer(), []);
    expect(ctx.protections.get('0000:03:00.0')).toEqual([expect.objectContaining({ kind: 'default-route-nic', overridable: false })]);
  });
});

describe('passthrough planning', () => {
  it('passes an NVMe controller alone in its group through, booting first', async () => {
    const d = decide(await context(pciServer()), { disks: ['S5P2NG0R100002'] });
    expect(d.passthrough.mode).toBe('vfio');
    expect(d.passthrough.bind).toEqual([{ bdf: '0000:02:00.0', group: 3 }]);
    expect(d.passthrough.devices).toEqual([expect.objectContaining({ bdf: '0000:02:00.0', role: 'disk-controller', bootIndex: 1, disks: [{ name: 'nvme1n1', serial: 'S5P2NG0R100002' }] })]);
    expect(d.via.get('nvme1n1')).toEqual({ via: 'vfio', pciAddress: '0000:02:00.0' });
    expect(d.passthrough.groups[0]).toMatchObject({ group: 3, isolatable: true });
  });

  it('binds the whole group but leaves a PCI bridge in it alone', async () => {
    const ctx = await context(pciServer({
      pci: [
        ...base.pci!.filter((p) => p.bdf !== '0000:02:00.0'),
        pciDevice('0000:00:1e.0', 'bridge', { class: '0x060400', driver: 'pcieport', iommuGroup: 3 }),
        pciDevice('0000:02:00.0', 'nvme', { parent: '0000:00:1e.0', iommuGroup: 3 }),
        pciDevice('0000:02:01.0', 'ethernet', { parent: '0000:00:1e.0', iommuGroup: 3, driver: 'e1000e' }),
      ],
    }));
    const d = decide(ctx, { disks: ['S5P2NG0R100002'] });
    expect(d.passthrough.bind).toEqual([{ bdf: '0000:02:00.0', group: 3 }, { bdf: '0000:02:01.0', group: 3 }]);
    expect(d.passthrough.devices.map((x) => x.bdf)).toEqual(['0000:02:00.0']);
    expect(d.passthrough.groups[0]!.members.map((m) => [m.bdf, m.action])).toEqual([
      ['0000:00:1e.0', 'leave'], ['0000:02:00.0', 'bind'], ['0000:02:01.0', 'bind'],
    ]);
  });

  it('refuses a group holding a platform device on a driver, and falls back to raw in auto mode', async () => {
    const ctx = await context(extraPci(
      pciDevice('0000:00:1f.0', 'bridge', { class: '0x060100', driver: 'lpc_ich', iommuGroup: 3 }),
    ));
    expect(refusal(() => decide(ctx, { disks: ['S5P2NG0R100002'], mode: 'vfio' })).code).toBe('ERR_IOMMU_GROUP_SHARED');
    const auto = decide(ctx, { disks: ['S5P2NG0R100002'] });
    expect(auto.passthrough.mode).toBe('raw');
    expect(auto.passthrough.bind).toEqual([]);
    expect(auto.warnings.join('\n')).toMatch(/0000:00:1f\.0 \(ISA bridge on lpc_ich\).*given to the VM raw instead/);
  });

  it('refuses a controller that also carries disks the request does not name', async () => {
    const ctx = await context(pciServer({
      pci: [...base.pci!, pciDevice('0000:05:00.0', 'ahci', { iommuGroup: 9 })],
      block: [
        ...base.block!,
        sataDisk({ name: 'sde', bdf: '0000:05:00.0', port: 1, dev: '8:64', serial: 'FREE1', sizeSectors: 1000 }),
        sataDisk({ name: 'sdf', bdf: '0000:05:00.0', port: 2, dev: '8:80', serial: 'FREE2', sizeSectors: 1000 }),
      ],
    }));
    expect(refusal(() => decide(ctx, { disks: ['FREE1'], mode: 'vfio' }))).toMatchObject({ code: 'ERR_BAD_REQUEST', message: expect.stringContaining('also carries sdf') });
    expect(decide(ctx, { disks: ['FREE1', 'FREE2'], mode: 'vfio' }).passthrough.devices[0]!.disks.map((x) => x.name)).toEqual(['sde', 'sdf']);
  });

  it('binds a boot-medium controller only with forceProtected, and says so', async () => {
    const desc = pciServer({
      pci: [...base.pci!, pciDevice('0000:06:00.0', 'nvme', { iommuGroup: 10 })],
      block: [...base.block!, nvmeDisk({ name: 'nvme2n1', bdf: '0000:06:00.0', dev: '259:9', serial: 'BOOTSTICK', sizeSectors: 1000 })],
      proc: { cmdline: 'BOOT_IMAGE=/boot/vmlinuz root=/dev/nvme2n1 ro\n' },
      dev: ['nvme2n1'],
    });
    const ctx = await context(desc);
    expect(refusal(() => decide(ctx, { disks: ['BOOTSTICK'], mode: 'vfio' }))).toEqual({
      code: 'ERR_DEVICE_PROTECTED',
      message: "cannot bind 0000:06:00.0 to vfio-pci: it is the controller of nvme2n1, the rescue system's boot medium",
    });
    const forced = decide(ctx, { disks: ['BOOTSTICK'], mode: 'vfio', force: 'rescue runs from RAM' });
    expect(forced.passthrough.forced).toEqual([{ bdf: '0000:06:00.0', reasons: [expect.stringContaining('boot medium')], why: 'rescue runs from RAM' }]);
    expect(forced.warnings.join('\n')).toMatch(/FORCED by request \(rescue runs from RAM\)/);
  });

  it('falls back to raw disks with a warning without an IOMMU, and refuses vfio mode and NICs there', async () => {
    const noIommu = { ...pciServer(), pci: base.pci!.map(({ iommuGroup: _g, ...p }) => p) };
    const ctx = await context(noIommu);
    const d = decide(ctx, { disks: ['S5P2NG0R100002'] });
    expect(d.passthrough.mode).toBe('raw');
    expect(d.warnings[0]).toMatch(/^no IOMMU .*raw block devices/);
    expect(refusal(() => decide(ctx, { disks: ['S5P2NG0R100002'], mode: 'vfio' })).code).toBe('ERR_NO_IOMMU');
    expect(refusal(() => decide(ctx, { disks: ['S5P2NG0R100002'], nics: ['eth1'] })).code).toBe('ERR_NO_IOMMU');
  });

  it('goes raw when interrupt remapping is off', async () => {
    const ctx = await context(pciServer({ proc: { interrupts: '  0:  36  IO-APIC 2-edge timer\n' } }));
    const d = decide(ctx, { disks: ['S5P2NG0R100002'] });
    expect(d.passthrough.mode).toBe('raw');
    expect(d.warnings[0]).toMatch(/interrupt remapping is off/);
  });

  it('passes a free NIC in its own group through, without a boot index', async () => {
    const ctx = await context(pciServer({
      pci: [...base.pci!, pciDevice('0000:07:00.0', 'ethernet', { iommuGroup: 11 })],
      net: [...base.net!, pciNic({ name: 'eth2', bdf: '0000:07:00.0', driver: 'igb', mac: 'a0:36:9f:00:00:07' })],
    }));
    const d = decide(ctx, { disks: ['S5P2NG0R100002'], nics: ['eth2'] });
    expect(d.passthrough.devices.map((x) => [x.bdf, x.role, x.bootIndex])).toEqual([
      ['0000:02:00.0', 'disk-controller', 1], ['0000:07:00.0', 'nic', undefined],
    ]);
  });
});
