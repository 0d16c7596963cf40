import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDisks } from '../../../agent/host/block-devices.js';
import { DiskInfo } from '../../../agent/protocol/inventory.js';
import { fakeServer } from './fake-server.js';
import { type FakeHostTree, buildFakeHost, nvmeDisk, sataDisk, vpdPg80 } from './fake-sysfs.js';

let host: FakeHostTree;
let disks: DiskInfo[];
const disk = (name: string): DiskInfo => {
  const d = disks.find((x) => x.name === name);
  if (!d) throw new Error(`${name} not listed`);
  return d;
};

beforeAll(async () => {
  host = await buildFakeHost(fakeServer());
  disks = await listDisks(host);
});
afterAll(() => host.cleanup());

describe('listDisks', () => {
  it('lists every candidate disk in name order, each valid against the protocol schema', () => {
    expect(disks.map((d) => d.name)).toEqual(['loop0', 'nvme0n1', 'nvme1n1', 'sda', 'sdb', 'sdc', 'sdd', 'vda']);
    for (const d of disks) expect(DiskInfo.safeParse(d).success).toBe(true);
  });

  it('skips ram, zram, optical drives, dm holders and loop devices without a backing file', () => {
    for (const n of ['ram0', 'zram0', 'sr0', 'dm-0', 'loop1']) expect(disks.map((d) => d.name)).not.toContain(n);
  });

  it('reads an NVMe serial and model from the controller, the WWN from the namespace, the BDF behind a root port', () => {
    expect(disk('nvme0n1')).toMatchObject({
      path: '/dev/nvme0n1',
      serial: 'S5P2NG0R100001',
      model: 'Samsung SSD 980 PRO 1TB',
      wwn: 'eui.0025388b71b0c1e5',
      transport: 'nvme',
      pciAddress: '0000:01:00.0',
      sizeBytes: 1953525168 * 512,
      removable: false,
      readOnly: false,
    });
  });

  it('reports a mounted partition with its mount point and a partition holding LVM as a holder', () => {
    expect(disk('nvme0n1').inUse).toEqual(['mounted at /boot/efi (nvme0n1p1)', 'holder dm-0 (nvme0n1p2)']);
  });

  it('reports nothing for a free disk', () => {
    expect(disk('nvme1n1').inUse).toEqual([]);
    expect(disk('nvme1n1').pciAddress).toBe('0000:02:00.0');
  });

  it('reads a SATA serial from VPD page 0x80 and reports its swap partition', () => {
    expect(disk('sda')).toMatchObject({ serial: 'ZC10AAAA', transport: 'sata', pciAddress: '0000:00:1f.2', wwn: 'naa.5000c500a1b2c3d4' });
    expect(disk('sda').inUse).toEqual(['swap (sda1)']);
  });

  it('does not take a t10 vendor identifier for a WWN', () => {
    expect(disk('sdb').wwn).toBeUndefined();
    expect(disk('sdb').inUse).toEqual([]);
  });

  it('reports a whole disk mounted without partitions', () => {
    expect(disk('sdc').inUse).toEqual(['mounted at /srv']);
  });

  it('matches a /dev/root mount by major:minor from mountinfo', () => {
    expect(disk('sdd').inUse).toEqual(['mounted at /media/rescue (sdd1)']);
  });

  it('lists a virtio disk without a serial and with its transport', () => {
    const vda = disk('vda');
    expect(vda.serial).toBeUndefined();
    expect(vda).toMatchObject({ transport: 'virtio', pciAddress: '0000:00:04.0', sizeBytes: 2097152 * 512 });
  });

  it('lists a loop device with a backing file as transport loop, read-only when it is', () => {
    expect(disk('loop0')).toMatchObject({ transport: 'loop', readOnly: true, inUse: [] });
    expect(disk('loop0').pciAddress).toBeUndefined();
  });
});

describe('listDisks on other shapes', () => {
  it('finds the BDF of an NVMe namespace under a native-multipath subsystem through its controller', async () => {
    const subsys = 'devices/virtual/nvme-subsystem/nvme-subsys0';
    const t = await buildFakeHost({
      block: [
        {
          name: 'nvme0n1',
          dev: '259:0',
          at: `${subsys}/nvme0n1`,
          device: subsys,
          sizeSectors: 100,
          attrs: { wwid: 'eui.00000000000000018ce38e0300000001\n' },
          deviceAttrs: { serial: 'PHLJ000000001P0DGN  \n', model: 'INTEL SSDPE2KX010T8\n' },
        },
        { name: 'nvme0c0n1', dev: '259:1', at: 'devices/pci0000:00/0000:00:05.0/nvme/nvme0/nvme0c0n1', attrs: { hidden: '1\n' } },
      ],
      sys: { 'devices/pci0000:00/0000:00:05.0/nvme/nvme0/serial': 'PHLJ000000001P0DGN\n' },
    });
    const { symlink } = await import('node:fs/promises');
    await symlink('../../../pci0000:00/0000:00:05.0/nvme/nvme0', `${t.sysRoot}/${subsys}/nvme0`);
    try {
      const list = await listDisks(t);
      expect(list.map((d) => d.name)).toEqual(['nvme0n1']);
      expect(list[0]).toMatchObject({ serial: 'PHLJ000000001P0DGN', transport: 'nvme', pciAddress: '0000:00:05.0' });
    } finally {
      await t.cleanup();
    }
  });

  it('marks a disk mounted by device name when no mountinfo exists, and a dm holder of the whole disk', async () => {
    const t = await buildFakeHost({
      block: [
        sataDisk({ name: 'sda', bdf: '0000:00:1f.2', dev: '8:0', serial: 'A', holders: ['dm-3'] }),
        { ...nvmeDisk({ name: 'nvme0n1', bdf: '0000:01:00.0', dev: '259:0', serial: 'B' }), ro: true },
      ],
      proc: { mounts: '/dev/sda /mnt ext4 rw 0 0\n/dev/sda /mnt2 ext4 rw 0 0\n', swaps: 'Filename Type Size Used Priority\n' },
    });
    try {
      const list = await listDisks(t);
      expect(list.find((d) => d.name === 'sda')?.inUse).toEqual(['mounted at /mnt', 'mounted at /mnt2', 'holder dm-3']);
      expect(list.find((d) => d.name === 'nvme0n1')).toMatchObject({ readOnly: true, inUse: [] });
    } finally {
      await t.cleanup();
    }
  });

  it('lists nothing on a machine without block devices', async () => {
    const t = await buildFakeHost({});
    try {
      expect(await listDisks(t)).toEqual([]);
    } finally {
      await t.cleanup();
    }
  });

  it('encodes the VPD serial the way the kernel does', () => {
    expect(vpdPg80('X1').subarray(0, 4)).toEqual(Buffer.from([0, 0x80, 0, 20]));
  });
});
