import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../../agent/jobs/index.js';
import { resolveDisks } from '../../../agent/host/index.js';
import { readPciContext } from '../../../agent/pci/index.js';
import { InstallRequest, Plan, type Inventory } from '../../../agent/protocol/index.js';
import { renderPlan } from '../../../controller/cli/render.js';
import type { FakeHostTree } from '../host/fake-sysfs.js';
import { addrsOf, build, pciServer } from './fake-pci-host.js';

const trees: FakeHostTree[] = [];
afterAll(async () => Promise.all(trees.map((t) => t.cleanup())));
const GiB = 1024 ** 3;

async function planFor(body: Record<string, unknown>) {
  const t = await build(pciServer(), trees);
  const pci = await readPciContext({ sysfs: t.sysfs, procfs: t.procfs, devRoot: t.devRoot, networkInterfaces: addrsOf('eth0', '192.0.2.10') }, [{ remote: '192.0.2.1' }]);
  const inventory = {
    hostname: 'srv', cpu: { model: 'Xeon', vendor: 'Intel', cores: 8, threads: 16, virtualization: true, hypervisor: false },
    memory: { totalBytes: 64 * GiB, availableBytes: 60 * GiB }, firmware: { mode: 'uefi' }, kvm: { device: true, usable: true, reason: 'probe' },
    iommu: { enabled: true, groups: 7 }, disks: pci.view.disks, nics: pci.view.nics, pci: [],
  } as Inventory;
  const req = InstallRequest.parse({ iso: { url: 'https://m.example/a.iso', sha256: 'a'.repeat(64) }, ...body });
  return makePlan(req, { inventory, accel: { accel: 'kvm', reason: 'probe' }, resolveDisks: (s, d) => resolveDisks(s, d), pci });
}

describe('plan with the PCI view', () => {
  it('plans the NVMe by vfio with its group and the protected set, valid against the wire schema', async () => {
    const p = await planFor({ disks: [{ serial: 'S5P2NG0R100002' }] });
    expect(Plan.safeParse(p).success).toBe(true);
    expect(p.disks).toEqual([expect.objectContaining({ name: 'nvme1n1', via: 'vfio', pciAddress: '0000:02:00.0' })]);
    expect(p.passthrough?.protected.map((d) => d.bdf)).toEqual(['0000:00:1f.2', '0000:01:00.0', '0000:03:00.0', '0000:03:00.1']);
    expect(p.warnings.join('\n')).not.toMatch(/raw block devices/);
  });

  it('changes its hash when the passthrough mode changes', async () => {
    const a = await planFor({ disks: [{ serial: 'S5P2NG0R100002' }] });
    const b = await planFor({ disks: [{ serial: 'S5P2NG0R100002' }], passthrough: 'raw' });
    expect(b.disks[0]!.via).toBe('raw');
    expect(a.hash).not.toBe(b.hash);
  });

  it('prints a table of device, group, action and reason', async () => {
    const text = renderPlan(await planFor({ disks: [{ serial: 'S5P2NG0R100002' }] }));
    expect(text).toMatch(/DEVICE\s+GROUP\s+ACTION\s+CLASS \[DRIVER\]\s+REASON/);
    expect(text).toMatch(/0000:02:00\.0\s+3\s+pass through \(boot 1\)\s+NVMe controller \[nvme\]/);
    expect(text).toMatch(/0000:03:00\.1\s+6\s+protected\s+.*IOMMU group 6 also contains 0000:03:00\.0 \(the NIC eth0 carrying the controller connection\)/);
    expect(text).toMatch(/group 3: isolatable/);
  });
});
