import { describe, expect, it } from 'vitest';
import { makePlan } from '../../../agent/jobs/index.js';
import { InstallRequest, type DiskInfo, type Inventory } from '../../../agent/protocol/index.js';

const GiB = 1024 ** 3;
const disk: DiskInfo = { name: 'nvme0n1', path: '/dev/nvme0n1', sizeBytes: 512 * GiB, serial: 'S4EWNX0N', removable: false, readOnly: false, inUse: [] };
const inventory = (over: Partial<Inventory> = {}): Inventory => ({
  hostname: 'srv', cpu: { model: 'EPYC', vendor: 'AMD', cores: 8, threads: 16, virtualization: true, hypervisor: false },
  memory: { totalBytes: 64 * GiB, availableBytes: 60 * GiB }, firmware: { mode: 'uefi', secureBoot: false },
  kvm: { device: true, usable: true, reason: 'probe' }, iommu: { enabled: false, groups: 0 }, disks: [disk], nics: [], pci: [], ...over,
});
const req = (vm: object = {}) => InstallRequest.parse({ iso: { url: 'https://m.example/a.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: 'S4EWNX0N' }], vm });
const inputs = (inv: Inventory) => ({ inventory: inv, accel: { accel: 'kvm' as const, reason: 'probe booted a kernel' }, resolveDisks: () => [disk] });

describe('plan', () => {
  it('follows the server firmware, uses KVM when the probe proved it, and caps memory at 4 GiB', () => {
    const p = makePlan(req(), inputs(inventory()));
    expect(p.firmware).toBe('uefi');
    expect(p.accel).toBe('kvm');
    expect(p.memoryMiB).toBe(4096);
    expect(p.cpus).toBe(4);
    expect(p.disks).toEqual([expect.objectContaining({ path: '/dev/nvme0n1', serial: 'S4EWNX0N', via: 'raw' })]);
  });

  it('warns when the requested firmware differs from the server and when TCG is forced', () => {
    const p = makePlan(req({ firmware: 'bios', accel: 'tcg' }), inputs(inventory()));
    expect(p.warnings.join('\n')).toMatch(/firmware bios differs from the server's uefi/);
    expect(p.warnings.join('\n')).toMatch(/TCG/);
  });

  it('refuses when the rescue system cannot spare memory for a VM', () => {
    expect(() => makePlan(req(), inputs(inventory({ memory: { totalBytes: GiB, availableBytes: 900 * 1024 * 1024 } }))))
      .toThrowError(expect.objectContaining({ code: 'ERR_NO_MEMORY' }));
  });

  it('gives the same hash for the same machine and a different one when a disk changes', () => {
    const a = makePlan(req(), inputs(inventory()));
    const b = makePlan(req(), inputs(inventory()));
    const c = makePlan(req(), { ...inputs(inventory()), resolveDisks: () => [{ ...disk, sizeBytes: 256 * GiB }] });
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
  });
});
