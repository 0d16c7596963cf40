import type os from 'node:os';
import { type FakeHost, type FakeHostTree, buildFakeHost } from '../host/fake-sysfs.js';
import { fakeServer } from '../host/fake-server.js';

// /proc/interrupts of a machine with interrupt remapping on (IR- chips) or off.
export function interruptsTable(remapped: boolean): string {
  const p = remapped ? 'IR-' : '';
  return [
    '           CPU0       CPU1',
    `   0:         36          0   ${p}IO-APIC    2-edge      timer`,
    ` 120:     123456          0   ${p}PCI-MSI 524288-edge      nvme0q0`,
    ` 121:       4242          0   ${p}PCI-MSIX-0000:03:00.0    0-edge      eth0`,
    '',
  ].join('\n');
}

// fakeServer (docs in host/fake-server.ts) with an Intel IOMMU: dmar0, interrupt remapping on, eth0 the
// default route. `over` replaces whole sections as in fakeServer.
export function pciServer(over: Partial<FakeHost> = {}): FakeHost {
  const base = fakeServer();
  return {
    ...base,
    sys: { ...base.sys, 'class/iommu/dmar0/intel-iommu/ecap': 'f020df\n', ...over.sys },
    proc: { ...base.proc, interrupts: interruptsTable(true), cmdline: 'BOOT_IMAGE=/vmlinuz-lts modules=loop,squashfs quiet\n', ...over.proc },
    ...(over.pci ? { pci: over.pci } : {}),
    ...(over.block ? { block: over.block } : {}),
    ...(over.net ? { net: over.net } : {}),
    ...(over.dev ? { dev: over.dev } : {}),
  };
}

// os.networkInterfaces() for a host whose eth0 holds `ip`.
export const addrsOf = (iface: string, ip: string): typeof os.networkInterfaces => () => ({
  [iface]: [{ address: ip, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${ip}/24` }],
});

// Builds a tree and remembers it for cleanup.
export async function build(desc: FakeHost, trees: FakeHostTree[]): Promise<FakeHostTree> {
  const t = await buildFakeHost(desc);
  trees.push(t);
  return t;
}
