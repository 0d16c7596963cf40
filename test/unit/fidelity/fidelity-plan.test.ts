import { describe, expect, it } from 'vitest';
import { makePlan } from '../../../agent/jobs/index.js';
import type { FidelityInputs } from '../../../agent/fidelity/index.js';
import { InstallRequest, type DiskInfo, type Inventory } from '../../../agent/protocol/index.js';
import { syntheticDmiTable } from './synthetic-dmi.js';
import { codeOf } from '../../support/error-code.js';

const GiB = 1024 ** 3;
const disk: DiskInfo = { name: 'nvme0n1', path: '/dev/nvme0n1', sizeBytes: 512 * GiB, serial: 'S4EWNX0N', removable: false, readOnly: false, inUse: [], pciAddress: '0000:01:00.0' };
const inventory = (over: Partial<Inventory> = {}): Inventory => ({
  hostname: 'srv', cpu: { model: 'AMD EPYC 7443P', vendor: 'AMD', cores: 24, threads: 48, virtualization: true, hypervisor: false },
  memory: { totalBytes: 64 * GiB, availableBytes: 60 * GiB }, firmware: { mode: 'uefi', secureBoot: true },
  kvm: { device: true, usable: true, reason: 'probe' }, iommu: { enabled: true, groups: 40 }, disks: [disk],
  nics: [
    { name: 'eno2', mac: 'B4:96:91:00:00:02', linkUp: false, addresses: [], defaultRoute: false, virtual: false },
    { name: 'eno1', mac: 'B4:96:91:00:00:01', linkUp: true, addresses: ['203.0.113.7/24'], defaultRoute: true, virtual: false },
  ],
  pci: [], ...over,
});
const req = (vm: object = {}, extra: object = {}) =>
  InstallRequest.parse({ iso: { url: 'https://m.example/a.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: 'S4EWNX0N' }], vm, ...extra });
const facts = (over: Partial<FidelityInputs> = {}): FidelityInputs => ({
  facts: { smbios: { table: syntheticDmiTable(), identityTypes: [0, 1, 2, 3, 11], entryPoint: '64' }, tpm: '2.0', swtpm: '/usr/bin/swtpm' },
  cpu: { model: 'host', reason: 'the host CPU model runs under KVM' },
  secureBootBuild: true,
  ...over,
});
const plan = (r: ReturnType<typeof req>, fi: FidelityInputs = facts(), inv = inventory()) =>
  makePlan(r, { inventory: inv, accel: { accel: 'kvm', reason: 'probe' }, resolveDisks: () => [disk], fidelity: fi });


describe('the fidelity part of a plan', () => {
  it('mirrors a UEFI Secure Boot server with a TPM: secure OVMF, host SMBIOS, host CPU, swtpm', () => {
    const f = plan(req()).fidelity!;
    expect(f.firmware).toEqual({ host: 'uefi', vm: 'uefi', secureBoot: { host: true, vm: true, available: true } });
    expect(f.smbios).toMatchObject({ source: 'host', structures: [0, 1, 2, 3, 11] });
    expect(f.cpu.model).toBe('host');
    expect(f.tpm).toMatchObject({ host: '2.0', vm: true });
    expect(f.summary).toEqual({ identity: 'same', firmware: 'same', cpu: 'same', tpm: 'same', nic: 'differs' });
  });

  it('gives the emulated NIC the MAC of the NIC carrying the default route, on NAT', () => {
    expect(plan(req()).fidelity!.nic).toMatchObject({ mode: 'user', model: 'e1000e', mac: 'b4:96:91:00:00:01' });
    expect(plan(req({ nicModel: 'virtio', mac: '02:00:00:00:00:09' })).fidelity!.nic).toMatchObject({ model: 'virtio-net-pci', mac: '02:00:00:00:00:09' });
    expect(plan(req({ nic: 'none' })).fidelity!.nic.mode).toBe('none');
  });

  it('runs without Secure Boot and says so when no OVMF secure build exists', () => {
    const p = plan(req(), facts({ secureBootBuild: false }));
    expect(p.fidelity!.firmware.secureBoot.vm).toBe(false);
    expect(p.warnings.join('\n')).toMatch(/no OVMF Secure Boot build/);
    expect(p.fidelity!.summary.firmware).toBe('differs');
  });

  it('refuses secureBoot on without an OVMF secure build', () => {
    expect(codeOf(() => plan(req({ secureBoot: 'on' }), facts({ secureBootBuild: false })))).toBe('ERR_FIRMWARE_MISSING');
  });

  it('refuses tpm on without swtpm, and only warns for tpm auto', () => {
    const noSwtpm = facts({ facts: { smbios: { identityTypes: [] }, tpm: '2.0' } });
    expect(codeOf(() => plan(req({ tpm: 'on' }), noSwtpm))).toBe('ERR_TOOL_MISSING');
    const p = plan(req(), noSwtpm);
    expect(p.fidelity!.tpm.vm).toBe(false);
    expect(p.warnings.join('\n')).toMatch(/swtpm is not installed/);
    expect(p.fidelity!.summary.tpm).toBe('absent');
  });

  it('gives no TPM to the VM of a server without one unless asked', () => {
    const none = facts({ facts: { smbios: { identityTypes: [] }, tpm: 'none', swtpm: '/usr/bin/swtpm' } });
    expect(plan(req(), none).fidelity!.tpm.vm).toBe(false);
    expect(plan(req({ tpm: 'on' }), none).fidelity!.tpm.vm).toBe(true);
  });

  it('falls back to QEMU\'s SMBIOS with a warning when the host has no table', () => {
    const p = plan(req(), facts({ facts: { smbios: { identityTypes: [], problem: 'the host exposes no SMBIOS table' }, tpm: 'none' } }));
    expect(p.fidelity!.smbios.source).toBe('none');
    expect(p.warnings.join('\n')).toMatch(/SMBIOS: the host exposes no SMBIOS table/);
  });

  it('lists what still differs between the VM and the metal', () => {
    const d = plan(req(), facts({ cpu: { model: 'qemu64', reason: 'host fails here' } })).fidelity!.differences.join('\n');
    expect(d).toMatch(/CPU model is qemu64/);
    expect(d).toMatch(/raw virtio devices/);
    expect(d).toMatch(/UEFI boot entries .* `xepa finish`/);
    expect(d).toMatch(/TPM is an emulated one/);
  });

  it('reports the answer medium and the keystroke script', () => {
    const r = req({}, { answer: { kind: 'cloud-init', files: [{ path: 'user-data', content: '#cloud-config\n' }] }, keys: [{ waitMs: 3000 }, { keys: ['ret'] }] });
    const f = plan(r).fidelity!;
    expect(f.answer).toEqual({ kind: 'cloud-init', label: 'CIDATA', format: 'iso9660', files: 2, bytes: 14 + 'instance-id: xepa\n'.length });
    expect(f.keys).toEqual({ steps: 2, waitMs: 3000 });
  });

  it('changes the plan hash when a fidelity decision changes (install then refuses with ERR_PLAN_CHANGED)', () => {
    const a = plan(req());
    const b = plan(req(), facts({ facts: { smbios: { identityTypes: [] }, tpm: '2.0' } }));
    expect(plan(req()).hash).toBe(a.hash);
    expect(b.hash).not.toBe(a.hash);
  });

  it('keeps the plan without fidelity when the agent gives no fidelity inputs', () => {
    const p = makePlan(req(), { inventory: inventory(), accel: { accel: 'kvm', reason: 'probe' }, resolveDisks: () => [disk] });
    expect(p.fidelity).toBeUndefined();
  });
});

describe('the landing in the plan', () => {
  const rescue = { iface: 'eno1', mac: 'b4:96:91:00:00:01', ipv4: [{ address: '203.0.113.7', prefix: 32 }], gateway4: { address: '203.0.113.1', onLink: true }, ipv6: [], dns: ['192.0.2.53'], search: [], notes: [] };
  it('says finish will carry the rescue system\'s live network into the installed system by default, and why', () => {
    const p = plan(req(), facts({ landing: { rescue } }));
    expect(p.fidelity!.landing).toMatchObject({ network: 'rescue', rescue });
    expect(p.fidelity!.landing!.reason).toMatch(/^finish \(--network rescue, the default\) writes eno1 b4:96:91:00:00:01: 203\.0\.113\.7\/32 via 203\.0\.113\.1 \(on-link\).* matched by MAC, so the server answers where it answers now; finish --network dhcp or keep instead$/);
    expect(p.warnings.some((w) => /finish/.test(w))).toBe(false);
  });

  it('warns when the rescue network cannot be read or stands on a bond', () => {
    const unread = plan(req(), facts({ landing: { problem: 'the rescue system has no default route' } }));
    expect(unread.fidelity!.landing).toMatchObject({ network: 'rescue', problem: 'the rescue system has no default route' });
    expect(unread.warnings).toContain('finish cannot carry the rescue network into the installed system: the rescue system has no default route (finish --network dhcp or keep)');
    const bond = plan(req(), facts({ landing: { rescue: { ...rescue, iface: 'bond0', kind: 'bond' } } }));
    expect(bond.warnings).toContain('the rescue system reaches the network through bond0, a bond: finish --network rescue writes plain-NIC configurations only');
  });
});
