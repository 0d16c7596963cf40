import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readInventory } from '../../../agent/machine/index.js';
import { Procfs } from '../../../agent/host/procfs.js';
import type { SiCpu, SiSubset } from '../../../agent/host/si-cpu.js';
import { memoizedSi } from '../../../agent/host/si-cpu.js';
import { Sysfs } from '../../../agent/host/sysfs.js';
import { Inventory } from '../../../agent/protocol/inventory.js';
import { fakeServer } from '../host/fake-server.js';
import { buildFakeHost } from '../host/fake-sysfs.js';

const log = pino({ level: 'silent' });

// A systeminformation stand-in that counts its calls.
function countingSi(cpu: SiCpu = { manufacturer: 'Ampere', brand: 'Altra Q80-30', cores: 80, physicalCores: 80 }): SiSubset & { calls: number } {
  const si = { calls: 0, cpu: async () => (si.calls++, cpu) };
  return si;
}

describe('readInventory', () => {
  it('reads a whole fake server into a schema-valid inventory without consulting systeminformation', async () => {
    const t = await buildFakeHost(fakeServer());
    const si = countingSi();
    try {
      const inv = await readInventory({ ...t, log, si, hostname: () => 'rescue-1', networkInterfaces: () => ({}) });
      const parsed = Inventory.safeParse(inv);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(si.calls).toBe(0);
      expect(inv).toMatchObject({
        hostname: 'rescue-1',
        cpu: { model: 'Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz', vendor: 'Intel', cores: 8, threads: 16, virtualization: true, hypervisor: false },
        memory: { totalBytes: 65536000 * 1024, availableBytes: 60000000 * 1024 },
        firmware: { mode: 'uefi', secureBoot: false },
        kvm: { device: true },
        iommu: { enabled: true, groups: 7 },
      });
      expect(inv.disks).toHaveLength(8);
      expect(inv.nics.filter((n) => n.defaultRoute).map((n) => n.name)).toEqual(['eth0']);
      expect(inv.pci).toHaveLength(8);
    } finally {
      await t.cleanup();
    }
  });

  it('asks systeminformation only for what cpuinfo lacks (aarch64 has no model name or core count)', async () => {
    const t = await buildFakeHost({ proc: { cpuinfo: 'processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n' } });
    const si = countingSi();
    try {
      const inv = await readInventory({ ...t, log, si, networkInterfaces: () => ({}), kvm: async () => ({ usable: false, reason: 'no /dev/kvm' }) });
      expect(si.calls).toBe(1);
      expect(inv.cpu).toEqual({ model: 'Ampere Altra Q80-30', vendor: 'Ampere', cores: 80, threads: 2, virtualization: false, hypervisor: false });
      expect(inv.kvm).toEqual({ device: false, usable: false, reason: 'no /dev/kvm' });
      expect(inv.firmware).toEqual({ mode: 'bios' });
      expect(inv.iommu).toEqual({ enabled: false, groups: 0 });
      expect(Inventory.safeParse(inv).success).toBe(true);
    } finally {
      await t.cleanup();
    }
  });

  it('reads this machine’s real /sys and /proc into a schema-valid inventory, quickly', async () => {
    const started = performance.now();
    const inv = await readInventory({ sysfs: new Sysfs(), procfs: new Procfs(), log });
    const parsed = Inventory.safeParse(inv);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(inv.cpu.threads).toBeGreaterThan(0);
    expect(inv.memory.totalBytes).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('memoizedSi', () => {
  it('calls systeminformation once however often the inventory asks', async () => {
    let calls = 0;
    const cpu = async () => {
      calls++;
      return { manufacturer: 'AMD', brand: 'EPYC', cores: 2, physicalCores: 2 } as Awaited<ReturnType<typeof import('systeminformation').cpu>>;
    };
    const si = memoizedSi({ cpu });
    await si.cpu();
    expect(await si.cpu()).toEqual({ manufacturer: 'AMD', brand: 'EPYC', cores: 2, physicalCores: 2 });
    expect(calls).toBe(1);
  });
});
