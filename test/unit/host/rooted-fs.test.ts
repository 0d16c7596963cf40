import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Procfs } from '../../../agent/host/procfs.js';
import { Sysfs } from '../../../agent/host/sysfs.js';

let root: string;
let sysfs: Sysfs;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'xepa-rooted-'));
  await mkdir(`${root}/devices/pci0000:00/0000:00:04.0`, { recursive: true });
  await mkdir(`${root}/bus/pci/drivers/nvme`, { recursive: true });
  await mkdir(`${root}/bus/pci/devices`, { recursive: true });
  await writeFile(`${root}/devices/pci0000:00/0000:00:04.0/vendor`, '0x144d\n');
  await writeFile(`${root}/devices/pci0000:00/0000:00:04.0/driver_override`, '(null)\n');
  await symlink('../../../devices/pci0000:00/0000:00:04.0', `${root}/bus/pci/devices/0000:00:04.0`);
  await symlink('../../../bus/pci/drivers/nvme', `${root}/devices/pci0000:00/0000:00:04.0/driver`);
  sysfs = new Sysfs(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('Sysfs', () => {
  it('defaults its root to /sys and Procfs to /proc', () => {
    expect(new Sysfs().root).toBe('/sys');
    expect(new Procfs().root).toBe('/proc');
  });

  it('reads an attribute trimmed, through symlinks', async () => {
    expect(await sysfs.readText('bus/pci/devices/0000:00:04.0/vendor')).toBe('0x144d');
  });

  it('answers undefined for a missing attribute instead of throwing', async () => {
    expect(await sysfs.readText('bus/pci/devices/0000:00:04.0/nothing')).toBeUndefined();
    expect(await sysfs.readAttr('bus/pci/devices/0000:00:09.0/vendor')).toBeUndefined();
    expect(await sysfs.readBytes('nothing')).toBeUndefined();
  });

  it('still throws errors other than a missing file', async () => {
    await expect(sysfs.readText('bus/pci/devices')).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('reads the basename of a symlink target, and undefined for a regular file or nothing', async () => {
    expect(await sysfs.readLink('bus/pci/devices/0000:00:04.0/driver')).toBe('../../../bus/pci/drivers/nvme');
    expect(await sysfs.readLinkName('bus/pci/devices/0000:00:04.0/driver')).toBe('nvme');
    expect(await sysfs.readLinkName('bus/pci/devices/0000:00:04.0/vendor')).toBeUndefined();
    expect(await sysfs.readLinkName('bus/pci/devices/0000:00:04.0/iommu_group')).toBeUndefined();
  });

  it('resolves a realpath relative to its root', async () => {
    expect(await sysfs.realpath('bus/pci/devices/0000:00:04.0')).toBe('devices/pci0000:00/0000:00:04.0');
    expect(await sysfs.realpath('bus/pci/devices/0000:00:09.0')).toBeUndefined();
  });

  it('lists a directory sorted, and an absent one as empty', async () => {
    await mkdir(`${root}/block/sdb`, { recursive: true });
    await mkdir(`${root}/block/nvme0n1`, { recursive: true });
    expect(await sysfs.list('block')).toEqual(['nvme0n1', 'sdb']);
    expect(await sysfs.list('class/net')).toEqual([]);
  });

  it('tells whether a path exists', async () => {
    expect(await sysfs.exists('bus/pci/devices/0000:00:04.0/driver')).toBe(true);
    expect(await sysfs.exists('firmware/efi')).toBe(false);
    expect(await sysfs.exists('bus/pci/devices/0000:00:04.0/vendor/x')).toBe(false);
  });

  it('writes an existing attribute in place', async () => {
    await sysfs.write('bus/pci/devices/0000:00:04.0/driver_override', 'vfio-pci');
    expect(await readFile(`${root}/devices/pci0000:00/0000:00:04.0/driver_override`, 'utf8')).toBe('vfio-pci');
  });

  it('never creates a file it writes to, as sysfs would refuse', async () => {
    await expect(sysfs.write('bus/pci/devices/0000:00:04.0/new_attr', '1')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await sysfs.exists('bus/pci/devices/0000:00:04.0/new_attr')).toBe(false);
  });

  it('keeps paths with a leading slash under its root', () => {
    expect(sysfs.abs('/block/sda')).toBe(path.join(root, 'block/sda'));
  });
});
