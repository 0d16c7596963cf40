import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPciIds, headerTypeOf, interruptRemappingOf, readIommuState, readPciFunction, readPciView } from '../../../agent/pci/index.js';
import type { FakeHostTree } from '../host/fake-sysfs.js';
import { pciDevice } from '../host/fake-sysfs.js';
import { addrsOf, build, interruptsTable, pciServer } from './fake-pci-host.js';

const trees: FakeHostTree[] = [];
afterAll(async () => Promise.all(trees.map((t) => t.cleanup())));
const ids = createPciIds([path.join(import.meta.dirname, 'fixtures/pci.ids')]);

// Config space whose header type register (0x0e) says `type` (0x80 set: multi-function).
const config = (type: number): Buffer => Buffer.from([...Array(14).fill(0), type, 0, ...Array(48).fill(0)]);

describe('readPciView', () => {
  it('enumerates every function with group, driver, parent, and the disks and NICs behind it', async () => {
    const t = await build(pciServer(), trees);
    const view = await readPciView({ sysfs: t.sysfs, procfs: t.procfs, ids, networkInterfaces: addrsOf('eth0', '192.0.2.10') });
    expect(view.devices.map((d) => d.bdf)).toEqual([
      '0000:00:00.0', '0000:00:01.0', '0000:00:04.0', '0000:00:1f.2', '0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:03:00.1',
    ]);
    const nvme = view.devices.find((d) => d.bdf === '0000:01:00.0');
    expect(nvme).toMatchObject({
      className: 'NVMe controller', driver: 'nvme', iommuGroup: 2, parent: '0000:00:01.0', headerType: 'endpoint',
      vendorName: 'Samsung Electronics Co Ltd', deviceName: 'NVMe SSD Controller SM981/PM981/PM983', disks: ['nvme0n1'],
    });
    expect(view.devices.find((d) => d.bdf === '0000:00:1f.2')?.disks).toEqual(['sda', 'sdb', 'sdc', 'sdd']);
    expect(view.devices.find((d) => d.bdf === '0000:03:00.0')?.nics).toEqual(['eth0']);
    expect(view.devices.find((d) => d.bdf === '0000:00:01.0')?.headerType).toBe('bridge');
    expect(view.groups.get(6)).toEqual(['0000:03:00.0', '0000:03:00.1']);
    expect(view.iommu).toMatchObject({ enabled: true, groups: 7, kind: 'intel', interruptRemapping: 'on' });
  });

  it('reads subsystem ids, NUMA node, reset methods, driver_override and the header type from config space', async () => {
    const t = await build(pciServer({
      pci: [pciDevice('0000:81:00.0', 'ethernet', {
        iommuGroup: 30,
        attrs: { config: config(0x80), subsystem_vendor: '0x8086\n', subsystem_device: '0x0001\n', numa_node: '1\n', reset_method: 'flr bus\n', driver_override: 'vfio-pci\n' },
      }), pciDevice('0000:80:01.0', 'bridge', { class: '0x060400', attrs: { config: config(0x01), numa_node: '-1\n' } })],
    }), trees);
    const nic = await readPciFunction(t.sysfs, '0000:81:00.0', ids);
    expect(nic).toMatchObject({
      subsystemVendorId: '0x8086', subsystemDeviceId: '0x0001', numaNode: 1, resetMethods: ['flr', 'bus'],
      driverOverride: 'vfio-pci', headerType: 'endpoint', deviceName: 'I210 Gigabit Network Connection',
    });
    const port = await readPciFunction(t.sysfs, '0000:80:01.0');
    expect(port.headerType).toBe('bridge');
    expect(port.numaNode).toBeUndefined();
    expect(port.vendorName).toBeUndefined(); // no pci.ids given
  });

  it('goes without names when pci.ids is absent', async () => {
    const none = createPciIds(['/nonexistent/pci.ids']);
    expect(await none.lookup('0x8086', '0x1533')).toEqual({});
  });
});

describe('header type', () => {
  it('reads the type register and ignores the multi-function bit', () => {
    expect(headerTypeOf(config(0x80), '0x020000')).toBe('endpoint');
    expect(headerTypeOf(config(0x81), '0x060400')).toBe('bridge');
    expect(headerTypeOf(config(0x02), '0x060700')).toBe('cardbus');
  });

  it('falls back to the class without config space', () => {
    expect(headerTypeOf(undefined, '0x060400')).toBe('bridge');
    expect(headerTypeOf(undefined, '0x060000')).toBe('endpoint'); // a host bridge has a normal header
  });
});

describe('IOMMU state', () => {
  it('says interrupt remapping is on from IR- irq chips, off without them, unknown without the file', () => {
    expect(interruptRemappingOf(interruptsTable(true))).toBe('on');
    expect(interruptRemappingOf(interruptsTable(false))).toBe('off');
    expect(interruptRemappingOf(undefined)).toBe('unknown');
  });

  it('reports no IOMMU without groups, and AMD-Vi from ivhd units with the vfio unsafe-interrupts flag', async () => {
    const off = await build({ proc: { interrupts: interruptsTable(false) } }, trees);
    expect(await readIommuState(off.sysfs, off.procfs)).toMatchObject({ enabled: false, groups: 0, interruptRemapping: 'off' });
    const amd = await build({
      ...pciServer(),
      sys: { 'class/iommu/ivhd0/amd-iommu/features': '0\n', 'module/vfio_iommu_type1/parameters/allow_unsafe_interrupts': 'N\n' },
    }, trees);
    const s = await readIommuState(amd.sysfs, amd.procfs);
    expect(s).toMatchObject({ enabled: true, kind: 'amd', unsafeInterrupts: false, interruptRemapping: 'on' });
  });
});
