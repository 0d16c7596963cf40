import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devRealpath, resolveDisks } from '../../../agent/host/disks.js';
import type { DiskInfo } from '../../../agent/protocol/inventory.js';
import { XepaError } from '../../../agent/protocol/errors.js';

const disk = (name: string, over: Partial<DiskInfo> = {}): DiskInfo => ({
  name,
  path: `/dev/${name}`,
  sizeBytes: 1e12,
  removable: false,
  readOnly: false,
  inUse: [],
  ...over,
});

const disks: DiskInfo[] = [
  disk('nvme0n1', { serial: 'S5P2NG0R100001', wwn: 'eui.0025388b71b0c1e5', transport: 'nvme' }),
  disk('nvme1n1', { serial: 'S5P2NG0R100002', transport: 'nvme' }),
  disk('sda', { serial: 'ZC10AAAA', wwn: 'naa.5000c500a1b2c3d4', inUse: ['mounted at / (sda1)', 'swap (sda2)'] }),
  disk('sdb', { serial: 'ZC10BBBB', readOnly: true }),
  disk('vda'),
];

// /dev as a table of symlinks: by-id names resolve to kernel names; anything else does not exist.
const links: Record<string, string> = {
  '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5P2NG0R100002': '/dev/nvme1n1',
  '/dev/vda': '/dev/vda',
  '/dev/nvme0n1': '/dev/nvme0n1',
  '/dev/nvme0n1p1': '/dev/nvme0n1p1',
};
const realpath = (p: string): string => {
  const target = links[p];
  if (target === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, realpath '${p}'`), { code: 'ENOENT' });
  return target;
};

function thrown(fn: () => unknown): XepaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof XepaError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('resolveDisks', () => {
  it('resolves disks by serial, by WWN in any common spelling and by a by-id symlink, in selector order', () => {
    const got = resolveDisks(
      [{ path: '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5P2NG0R100002' }, { serial: 'S5P2NG0R100001' }, { path: '/dev/vda' }],
      disks,
      { realpath },
    );
    expect(got.map((d) => d.name)).toEqual(['nvme1n1', 'nvme0n1', 'vda']);
    expect(resolveDisks([{ wwn: '0x0025388B71B0C1E5' }], disks, { realpath }).map((d) => d.name)).toEqual(['nvme0n1']);
  });

  it('requires every field of one selector to match the same disk', () => {
    const err = thrown(() => resolveDisks([{ serial: 'S5P2NG0R100001', path: '/dev/vda' }], disks, { realpath }));
    expect(err.code).toBe('ERR_DEVICE_NOT_FOUND');
  });

  it('names the selector and the available serials when nothing matches', () => {
    const err = thrown(() => resolveDisks([{ serial: 'NOPE' }], disks, { realpath }));
    expect(err.code).toBe('ERR_DEVICE_NOT_FOUND');
    expect(err.message).toContain('serial "NOPE"');
    expect(err.message).toContain('S5P2NG0R100001 (nvme0n1)');
    expect(err.message).toContain('(no serial) (vda)');
  });

  it('refuses a path that does not exist or names a partition', () => {
    expect(thrown(() => resolveDisks([{ path: '/dev/disk/by-id/gone' }], disks, { realpath })).code).toBe('ERR_DEVICE_NOT_FOUND');
    expect(thrown(() => resolveDisks([{ path: '/dev/nvme0n1p1' }], disks, { realpath })).code).toBe('ERR_DEVICE_NOT_FOUND');
  });

  it('refuses a serial shared by two disks as ambiguous', () => {
    const twins = [disk('sdx', { serial: 'CLONE' }), disk('sdy', { serial: 'CLONE' })];
    const err = thrown(() => resolveDisks([{ serial: 'CLONE' }], twins, { realpath }));
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.message).toContain('sdx, sdy');
  });

  it('refuses the same disk named twice', () => {
    const err = thrown(() => resolveDisks([{ serial: 'S5P2NG0R100001' }, { path: '/dev/nvme0n1' }], disks, { realpath }));
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.message).toContain('/dev/nvme0n1 is named twice');
  });

  it('refuses a disk in use and names every reason', () => {
    const err = thrown(() => resolveDisks([{ serial: 'ZC10AAAA' }], disks, { realpath }));
    expect(err.code).toBe('ERR_DEVICE_PROTECTED');
    expect(err.message).toBe('cannot use /dev/sda: mounted at / (sda1), swap (sda2)');
  });

  it('refuses a read-only disk', () => {
    const err = thrown(() => resolveDisks([{ serial: 'ZC10BBBB' }], disks, { realpath }));
    expect(err.code).toBe('ERR_DEVICE_PROTECTED');
    expect(err.message).toBe('cannot use /dev/sdb: read-only');
  });
});

describe('/dev links through the injected dev root', () => {
  it('resolves /dev/disk/by-id links inside the dev root and answers in /dev terms; a missing link is ERR_DEVICE_NOT_FOUND', () => {
    const dev = mkdtempSync(join(tmpdir(), 'xepa-dev-root-'));
    try {
      writeFileSync(join(dev, 'nvme1n1'), '');
      mkdirSync(join(dev, 'disk/by-id'), { recursive: true });
      symlinkSync('../../nvme1n1', join(dev, 'disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5P2NG0R100002'));
      expect(devRealpath(dev)('/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5P2NG0R100002')).toBe('/dev/nvme1n1');
      const [d] = resolveDisks([{ path: '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5P2NG0R100002' }], disks, { devRoot: dev });
      expect(d?.name).toBe('nvme1n1');
      expect(thrown(() => resolveDisks([{ path: '/dev/disk/by-id/gone' }], disks, { devRoot: dev })).code).toBe('ERR_DEVICE_NOT_FOUND');
    } finally {
      rmSync(dev, { recursive: true, force: true });
    }
  });
});
