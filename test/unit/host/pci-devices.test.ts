import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bdfFromPath } from '../../../agent/host/pci-address.js';
import { pciClassName } from '../../../agent/host/pci-classes.js';
import { readInventory } from '../../../agent/machine/index.js';
import { PciInfo } from '../../../agent/protocol/inventory.js';
import { fakeServer } from './fake-server.js';
import { type FakeHostTree, buildFakeHost } from './fake-sysfs.js';

const log = pino({ level: 'silent' });
// The inventory's PCI list: agent/pci's one reader (readPciFunction), as the wire's PciInfo (pciInfoOf).
const listPci = async (t: FakeHostTree): Promise<PciInfo[]> => (await readInventory({ ...t, log, networkInterfaces: () => ({}) })).pci;
let pci: PciInfo[];
const server = buildFakeHost(fakeServer());
beforeAll(async () => void (pci = await listPci(await server)));
afterAll(async () => (await server).cleanup());

describe('the inventory\'s PCI list', () => {
  it('lists every function in address order, valid against the schema', () => {
    expect(pci.map((p) => p.address)).toEqual([
      '0000:00:00.0', '0000:00:01.0', '0000:00:04.0', '0000:00:1f.2', '0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:03:00.1',
    ]);
    for (const p of pci) expect(PciInfo.safeParse(p).success).toBe(true);
  });

  it('reads ids, class, driver and IOMMU group of a function nested below a root port', () => {
    expect(pci.find((p) => p.address === '0000:01:00.0')).toEqual({
      address: '0000:01:00.0',
      vendorId: '0x144d',
      deviceId: '0xa808',
      classCode: '0x010802',
      className: 'NVMe controller',
      driver: 'nvme',
      iommuGroup: 2,
    });
  });

  it('leaves driver out for an unbound function', () => {
    const hostBridge = pci.find((p) => p.address === '0000:00:00.0');
    expect(hostBridge?.driver).toBeUndefined();
    expect(hostBridge).toMatchObject({ className: 'Host bridge', iommuGroup: 0 });
  });

  it('leaves the IOMMU group out when the kernel has no IOMMU', async () => {
    const t = await buildFakeHost({ pci: [{ bdf: '0000:00:1f.2', class: '0x010601', driver: 'ahci' }] });
    try {
      const [ahci] = await listPci(t);
      expect(ahci?.iommuGroup).toBeUndefined();
      expect(ahci?.className).toBe('SATA controller (AHCI)');
    } finally {
      await t.cleanup();
    }
  });
});

describe('pciClassName', () => {
  it('names common classes as lspci does, refining by prog-if where it matters', () => {
    expect(pciClassName('0x010802')).toBe('NVMe controller');
    expect(pciClassName('0x010400')).toBe('RAID bus controller');
    expect(pciClassName('0x010700')).toBe('Serial Attached SCSI controller');
    expect(pciClassName('0x020000')).toBe('Ethernet controller');
    expect(pciClassName('0x030000')).toBe('VGA compatible controller');
    expect(pciClassName('0x060400')).toBe('PCI bridge');
    expect(pciClassName('0x0c0330')).toBe('USB controller (xHCI)');
    expect(pciClassName('0xffff00')).toBe('Unassigned class');
  });

  it('falls back to the base class, then to the raw code', () => {
    expect(pciClassName('0x018500')).toBe('Mass storage controller');
    expect(pciClassName('0x4a0100')).toBe('Class 4a01');
  });
});

describe('bdfFromPath', () => {
  it('takes the last PCI address component of a sysfs path', () => {
    expect(bdfFromPath('devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0/nvme0n1')).toBe('0000:01:00.0');
    expect(bdfFromPath('devices/pci0000:00/0000:00:02.0/virtio1/block/vda')).toBe('0000:00:02.0');
    expect(bdfFromPath('devices/virtual/block/loop0')).toBeUndefined();
  });
});
