import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Procfs } from '../../../agent/host/procfs.js';
import { Sysfs } from '../../../agent/host/sysfs.js';
import { takeSnapshot } from '../../../agent/machine/index.js';
import { readOnce } from '../../../agent/machine/read-once.js';
import { Inventory } from '../../../agent/protocol/index.js';
import type { FakeHostTree } from '../host/fake-sysfs.js';
import { addrsOf, build, pciServer } from '../pci/fake-pci-host.js';

const trees: FakeHostTree[] = [];
afterAll(async () => Promise.all(trees.map((t) => t.cleanup())));
const log = pino({ level: 'silent' });

// Counts every read that reaches the file system, per method and path.
function counting<T extends Sysfs | Procfs>(fs: T): { fs: T; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  for (const name of ['readText', 'readBytes', 'readLink', 'realpath', 'list', 'exists'] as const) {
    const real = fs[name].bind(fs) as (rel: string) => Promise<unknown>;
    Object.defineProperty(fs, name, {
      value: (rel: string) => {
        reads.set(`${name} ${rel}`, (reads.get(`${name} ${rel}`) ?? 0) + 1);
        return real(rel);
      },
    });
  }
  return { fs, reads };
}

describe('takeSnapshot', () => {
  it('reads every sysfs and procfs path at most once, and the inventory lists the PCI view’s own disks, NICs and functions', async () => {
    const t = await build(pciServer(), trees);
    const sys = counting(new Sysfs(t.sysRoot));
    const proc = counting(new Procfs(t.procRoot));
    const snap = await takeSnapshot({ sysfs: sys.fs, procfs: proc.fs, devRoot: t.devRoot, log, networkInterfaces: addrsOf('eth0', '192.0.2.10') }, [{ remote: '192.0.2.1' }]);
    const twice = [...sys.reads, ...proc.reads].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    // /proc/net/route serves both the NIC list (default route) and the controller's route: read once.
    expect(proc.reads.get('readText net/route')).toBe(1);
    expect(sys.reads.get('readText bus/pci/devices/0000:02:00.0/vendor')).toBe(1);
    expect(Inventory.safeParse(snap.inventory).success).toBe(true);
    expect(snap.inventory.disks).toBe(snap.pci!.view.disks);
    expect(snap.inventory.nics).toBe(snap.pci!.view.nics);
    expect(snap.inventory.pci.map((p) => p.address)).toEqual(snap.pci!.view.devices.map((d) => d.bdf));
    expect(snap.inventory.iommu).toEqual({ enabled: true, groups: snap.pci!.view.iommu.groups });
    expect(snap.pci!.protections.get('0000:03:00.0')?.map((p) => p.kind)).toContain('controller-nic');
  });

  it('takes a new reading for each snapshot: a file changed between two requests is seen by the second', async () => {
    const t = await build(pciServer(), trees);
    const sys = counting(new Sysfs(t.sysRoot));
    const deps = { sysfs: sys.fs, procfs: new Procfs(t.procRoot), devRoot: t.devRoot, log, networkInterfaces: addrsOf('eth0', '192.0.2.10') };
    const first = await takeSnapshot(deps);
    await sys.fs.write('bus/pci/devices/0000:02:00.0/driver_override', 'vfio-pci');
    const second = await takeSnapshot(deps);
    expect(first.pci!.view.devices.find((d) => d.bdf === '0000:02:00.0')?.driverOverride).toBeUndefined();
    expect(second.pci!.view.devices.find((d) => d.bdf === '0000:02:00.0')?.driverOverride).toBe('vfio-pci');
    expect(sys.reads.get('readText bus/pci/devices/0000:02:00.0/driver_override')).toBe(2);
  });
});

describe('readOnce', () => {
  it('answers a repeated read from the first, hands out copies of lists, and leaves writes to the file system', async () => {
    const t = await build(pciServer(), trees);
    const sys = counting(new Sysfs(t.sysRoot));
    const once = readOnce(sys.fs);
    const a = await once.list('bus/pci/devices');
    a.push('mutated');
    expect(await once.list('bus/pci/devices')).not.toContain('mutated');
    expect(await once.readAttr('bus/pci/devices/0000:02:00.0/class')).toBe('0x010802');
    expect(await once.readText('bus/pci/devices/0000:02:00.0/class')).toBe('0x010802');
    expect(sys.reads.get('list bus/pci/devices')).toBe(1);
    expect(sys.reads.get('readText bus/pci/devices/0000:02:00.0/class')).toBe(1);
    await once.write('bus/pci/devices/0000:02:00.0/driver_override', 'vfio-pci');
    expect(await sys.fs.readText('bus/pci/devices/0000:02:00.0/driver_override')).toBe('vfio-pci');
  });
});
