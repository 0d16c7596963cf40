import { mkdir, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Sysfs } from '../../../agent/host/sysfs.js';

// A fake kernel over a fake sysfs tree: writes go to the files (observable in `writes`) and then change the
// tree the way drivers/pci would — unbind removes the driver links, drivers_probe binds driver_override's
// driver (or the device's native driver), creating /dev/vfio/<group> for vfio-pci. `failOn` injects errno.
export class FakeKernelSysfs extends Sysfs {
  readonly writes: string[] = [];
  failOn: ((rel: string, value: string) => NodeJS.ErrnoException | undefined) | undefined;

  constructor(
    root: string,
    private readonly devRoot: string,
    private readonly native: Record<string, string>, // bdf -> the driver drivers_probe binds without override
    private readonly loadable = new Set(['vfio-pci']), // drivers a modprobe can load
  ) {
    super(root);
  }

  // "modprobe": creates bus/pci/drivers/<name> when the module exists.
  async modprobe(name: string): Promise<void> {
    this.writes.push(`modprobe ${name}`);
    if (!this.loadable.has(name)) throw Object.assign(new Error(`modprobe: FATAL: Module ${name} not found`), { code: 'ENOENT' });
    await this.makeDriver(name);
  }

  async makeDriver(name: string): Promise<void> {
    const drv = this.abs(`bus/pci/drivers/${name}`);
    await mkdir(drv, { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id', 'remove_id']) await writeFile(`${drv}/${f}`, '');
  }

  override async write(rel: string, value: string): Promise<void> {
    const clean = rel.replace(/^\/+/, '');
    this.writes.push(`${clean} <- ${JSON.stringify(value)}`);
    const err = this.failOn?.(clean, value);
    if (err) throw err;
    await super.write(clean, value);
    const dev = /^bus\/pci\/devices\/([^/]+)\/(driver_override|driver\/unbind)$/.exec(clean);
    if (dev?.[2] === 'driver_override') await writeFile(this.abs(clean), value.trim() === '' ? '(null)\n' : `${value.trim()}\n`);
    else if (dev?.[2] === 'driver/unbind') await this.unbind(value.trim());
    else if (/^bus\/pci\/drivers\/[^/]+\/unbind$/.test(clean)) await this.unbind(value.trim());
    else if (clean === 'bus/pci/drivers_probe') await this.probe(value.trim());
    else if (/new_id$/.test(clean)) throw new Error('the fake kernel refuses new_id: XEPA must never write it');
  }

  private async unbind(bdf: string): Promise<void> {
    const link = this.abs(`bus/pci/devices/${bdf}/driver`);
    const target = await readlink(link).catch(() => undefined);
    if (target === undefined) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
    await unlink(link);
    await unlink(this.abs(`bus/pci/drivers/${path.basename(target)}/${bdf}`)).catch(() => undefined);
  }

  private async probe(bdf: string): Promise<void> {
    if ((await this.readLink(`bus/pci/devices/${bdf}/driver`)) !== undefined) return; // already bound
    const override = await this.readText(`bus/pci/devices/${bdf}/driver_override`);
    const driver = override !== undefined && override !== '(null)' ? override : this.native[bdf];
    if (driver === undefined || !(await this.exists(`bus/pci/drivers/${driver}`))) return; // nothing claims it
    const devDir = await this.realpath(`bus/pci/devices/${bdf}`);
    const drvDir = this.abs(`bus/pci/drivers/${driver}`);
    await symlink(path.relative(this.abs(devDir!), drvDir), this.abs(`${devDir}/driver`));
    await symlink(path.relative(drvDir, this.abs(devDir!)), `${drvDir}/${bdf}`);
    if (driver === 'vfio-pci') {
      const group = await this.readLinkName(`bus/pci/devices/${bdf}/iommu_group`);
      await mkdir(`${this.devRoot}/vfio`, { recursive: true });
      await writeFile(`${this.devRoot}/vfio/${group}`, '');
    }
  }

  // The driver bound to a device now (for assertions).
  driverOf(bdf: string): Promise<string | undefined> {
    return this.readLinkName(`bus/pci/devices/${bdf}/driver`);
  }
}
