import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { readFirmware, readKvm } from '../../../agent/host/platform.js';
import { readInventory } from '../../../agent/machine/index.js';
import { type FakeHost, buildFakeHost } from './fake-sysfs.js';

async function withHost<T>(desc: FakeHost, fn: (t: Awaited<ReturnType<typeof buildFakeHost>>) => Promise<T>): Promise<T> {
  const t = await buildFakeHost(desc);
  try {
    return await fn(t);
  } finally {
    await t.cleanup();
  }
}

describe('readFirmware', () => {
  it('reports BIOS when /sys/firmware/efi is absent', async () => {
    expect(await withHost({}, (t) => readFirmware(t.sysfs))).toEqual({ mode: 'bios' });
  });

  it('reports UEFI with Secure Boot on from the last byte of the SecureBoot variable', async () => {
    expect(await withHost({ efi: { secureBoot: true } }, (t) => readFirmware(t.sysfs))).toEqual({ mode: 'uefi', secureBoot: true });
  });

  it('reports UEFI with Secure Boot off', async () => {
    expect(await withHost({ efi: { secureBoot: false } }, (t) => readFirmware(t.sysfs))).toEqual({ mode: 'uefi', secureBoot: false });
  });

  it('leaves Secure Boot unknown when efivarfs is not mounted', async () => {
    expect(await withHost({ efi: {} }, (t) => readFirmware(t.sysfs))).toEqual({ mode: 'uefi' });
  });

  it('reads the legacy efi/vars data file when efivars is absent', async () => {
    const sys = { 'firmware/efi/vars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c/data': Buffer.from([1]) };
    expect(await withHost({ efi: {}, sys }, (t) => readFirmware(t.sysfs))).toEqual({ mode: 'uefi', secureBoot: true });
  });
});

describe('readKvm', () => {
  it('reports the device node and says it was not probed when the caller gave no verdict', async () => {
    const kvm = await withHost({ dev: ['kvm'] }, (t) => readKvm(t.devRoot, undefined));
    expect(kvm.device).toBe(true);
    expect(kvm.usable).toBeUndefined();
    expect(kvm.reason).toMatch(/present \(not probed\)$/);
  });

  it('reports a missing device node', async () => {
    const kvm = await withHost({}, (t) => readKvm(t.devRoot, undefined));
    expect(kvm).toMatchObject({ device: false });
    expect(kvm.reason).toMatch(/kvm missing$/);
  });

  it('passes the caller’s verdict through', async () => {
    const probe = { usable: false, reason: 'KVM_CREATE_VM failed: EBUSY (another hypervisor owns VMX)' };
    expect(await withHost({ dev: ['kvm'] }, (t) => readKvm(t.devRoot, probe))).toEqual({ device: true, ...probe });
  });
});

// The inventory's IOMMU section comes from agent/pci's IOMMU state (one reading of kernel/iommu_groups).
const readIommu = async (t: Awaited<ReturnType<typeof buildFakeHost>>) => (await readInventory({ ...t, log: pino({ level: 'silent' }), networkInterfaces: () => ({}) })).iommu;

describe('the inventory IOMMU section', () => {
  it('reports no IOMMU when there are no groups', async () => {
    expect(await withHost({}, (t) => readIommu(t))).toEqual({ enabled: false, groups: 0 });
  });

  it('counts IOMMU groups', async () => {
    const pci = [0, 1, 2].map((g) => ({ bdf: `0000:00:0${g}.0`, iommuGroup: g }));
    expect(await withHost({ pci }, (t) => readIommu(t))).toEqual({ enabled: true, groups: 3 });
  });
});
