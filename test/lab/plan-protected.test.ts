// Lab scenarios (a) and (c): the plan on an emulated server whose management NIC shares an IOMMU group (behind a
// pcie-pci-bridge) with a second NVMe controller, and the refusals that protect the controller's connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, Plan, PROTOCOL_VERSION } from '../../agent/protocol/index.js';
import { openSession } from '../../controller/cli/session.js';
import { nicBdf, nvmeBdfBySerial, readGuestPci, vfioGroupNodes, type GuestPciFunction } from './guest-pci.js';
import { startLab, type Lab } from './lab-session.js';

const ISOLATED = 'XEPA-LAB-ISOLATED';
const SHARED = 'XEPA-LAB-SHARED';

describe('the lab server: plan and protected set', () => {
  let lab: Lab;
  let bdf: { isolated: string; shared: string; nic: string };
  let pciBefore: GuestPciFunction[];
  const iso = (): string[] => ['--iso-url', lab.isoUrl!, '--sha256', lab.iso!.sha256];

  beforeAll(async () => {
    lab = await startLab({
      // No VM runs in these scenarios: a fixed accelerator spares the agent's 30-90 s KVM probe.
      name: 'plan', accel: 'tcg',
      serveIso: true,
      disks: [{ serial: ISOLATED, sizeMiB: 64 }, { serial: SHARED, sizeMiB: 64, sharesGroupWithNic: true }],
    });
    const shell = lab.vm.shell;
    bdf = { isolated: (await nvmeBdfBySerial(shell, ISOLATED))!, shared: (await nvmeBdfBySerial(shell, SHARED))!, nic: await nicBdf(shell, 'eth0') };
    lab.report(`guest PCI: isolated NVMe ${bdf.isolated}, shared-group NVMe ${bdf.shared}, management NIC ${bdf.nic}`);
    pciBefore = await readGuestPci(shell);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('builds a topology where the management NIC shares its IOMMU group with the second NVMe only', () => {
    const group = (b: string): number | undefined => pciBefore.find((f) => f.bdf === b)?.group;
    expect(bdf.isolated).toMatch(/^0000:00:/);
    expect(group(bdf.nic)).toBeDefined();
    expect(group(bdf.shared)).toBe(group(bdf.nic));
    expect(group(bdf.isolated)).not.toBe(group(bdf.nic));
    expect(pciBefore.filter((f) => f.group === group(bdf.isolated)).map((f) => f.bdf)).toEqual([bdf.isolated]);
    expect(pciBefore.find((f) => f.bdf === bdf.shared)?.driver).toBe('nvme');
  });

  it('plans the isolated NVMe for vfio-pci and shows the management NIC and its group protected', async () => {
    const inv = await lab.cli('inventory', '--json');
    expect(inv.code).toBe(0);
    const nic = Inventory.parse(JSON.parse(inv.out)).nics.find((n) => n.name === 'eth0');
    expect(nic).toMatchObject({ pciAddress: bdf.nic, defaultRoute: true });

    const r = await lab.cli('plan', ...iso(), '--disk', `serial=${ISOLATED}`, '--passthrough', 'vfio', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const plan = Plan.parse(JSON.parse(r.out));
    expect(plan.iommu).toBe(true);
    expect(plan.disks).toEqual([expect.objectContaining({ serial: ISOLATED, via: 'vfio', pciAddress: bdf.isolated })]);
    const pt = plan.passthrough!;
    expect(pt.mode).toBe('vfio');
    expect(pt.interruptRemapping).toBe('on');
    const isolatedGroup = pciBefore.find((f) => f.bdf === bdf.isolated)!.group!;
    expect(pt.bind).toEqual([{ bdf: bdf.isolated, group: isolatedGroup }]);
    expect(pt.groups.find((g) => g.group === isolatedGroup)).toMatchObject({ isolatable: true });
    const nicEntry = pt.protected.find((p) => p.bdf === bdf.nic);
    expect(nicEntry?.overridable).toBe(false);
    expect(nicEntry?.reasons.join('; ')).toMatch(/eth0/);
    expect(pt.protected.find((p) => p.bdf === bdf.shared)?.reasons.join('; ')).toMatch(new RegExp(`IOMMU group .*${bdf.nic}`));

    // The table a person reads says the same.
    const human = await lab.cli('plan', ...iso(), '--disk', `serial=${ISOLATED}`, '--passthrough', 'vfio');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(new RegExp(`${bdf.isolated}.*pass through`));
    expect(human.out).toMatch(new RegExp(`${bdf.nic}.*protected.*eth0`));
    // A plan changes nothing.
    expect(await readGuestPci(lab.vm.shell)).toEqual(pciBefore);
  });

  it('falls back to a raw block device, with a warning, for the shared-group disk in auto mode', async () => {
    const r = await lab.cli('plan', ...iso(), '--disk', `serial=${SHARED}`, '--json');
    expect(r.code).toBe(0);
    const plan = Plan.parse(JSON.parse(r.out));
    expect(plan.disks).toEqual([expect.objectContaining({ serial: SHARED, via: 'raw' })]);
    expect(plan.passthrough?.bind ?? []).toEqual([]);
    expect(plan.warnings.join('\n')).toMatch(/raw/);
  });

  it('refuses to pass through a disk controller that shares an IOMMU group with the management NIC, and binds nothing', async () => {
    const r = await lab.cli('install', ...iso(), '--disk', `serial=${SHARED}`, '--passthrough', 'vfio', '--memory', '256', '--yes');
    expect(r.err).toContain('ERR_DEVICE_PROTECTED');
    expect(r.err).toMatch(new RegExp(bdf.shared));
    expect(r.code).toBe(1);

    // The agent must refuse on its own too, not only because the CLI plans first: send the install directly.
    const session = await openSession(lab.vm.url, { fingerprint: lab.vm.fingerprint, 'key-dir': lab.keyDir });
    try {
      const request = { iso: { url: lab.isoUrl!, sha256: lab.iso!.sha256 }, disks: [{ serial: SHARED }], passthrough: 'vfio' as const, vm: { memoryMiB: 256 } };
      await expect(session.client.call('install', request)).rejects.toMatchObject({ code: 'ERR_DEVICE_PROTECTED' });
      expect((await session.client.call('hello', { protocol: PROTOCOL_VERSION })).agentId).toBe(lab.vm.agentId);
    } finally {
      session.close();
    }

    expect(await readGuestPci(lab.vm.shell)).toEqual(pciBefore);
    expect(await vfioGroupNodes(lab.vm.shell)).toEqual([]);
    const jobs = await lab.cli('jobs', '--json');
    expect(JSON.parse(jobs.out)).toEqual([]);
  });

  it('refuses to pass the management NIC itself through, and binds nothing', async () => {
    const r = await lab.cli('install', ...iso(), '--disk', `serial=${ISOLATED}`, '--nic', 'eth0', '--passthrough', 'vfio', '--memory', '256', '--yes');
    expect(r.err).toContain('ERR_DEVICE_PROTECTED');
    expect(r.err).toMatch(/eth0/);
    expect(r.code).toBe(1);
    expect(await readGuestPci(lab.vm.shell)).toEqual(pciBefore);
    expect(await vfioGroupNodes(lab.vm.shell)).toEqual([]);
  });
});
