import { RootedFs } from '../host/index.js';
import { type PciFunction, readPciFunction } from '../pci/index.js';
import { XepaError, toWireError } from '../protocol/index.js';
import { type JournalEntry, type VfioJournal, journalPath, writeJournal } from './journal.js';
import { type RestoreReport, restoreJournal } from './restore.js';
import { VFIO_DRIVER, type VfioDeps, defaultSleep, spawnModprobe } from './vfio-deps.js';

// A device to bind and its IOMMU group (/dev/vfio/<group> must appear).
export interface BindTarget {
  bdf: string;
  group: number;
}

// Devices held on vfio-pci for one job; restore() gives them back (idempotent) and reports.
export interface VfioBinding {
  journal: string;
  devices: JournalEntry[];
  restore(): Promise<RestoreReport>;
}

// Loads vfio-pci when its driver directory is missing (modprobe; it pulls vfio and vfio_iommu_type1).
async function ensureVfioDriver(deps: VfioDeps): Promise<void> {
  if (await deps.sysfs.exists(`bus/pci/drivers/${VFIO_DRIVER}`)) return;
  await (deps.modprobe ?? spawnModprobe())(VFIO_DRIVER);
  if (!(await deps.sysfs.exists(`bus/pci/drivers/${VFIO_DRIVER}`))) {
    throw new XepaError('ERR_VFIO_BIND', 'modprobe vfio-pci succeeded but /sys/bus/pci/drivers/vfio-pci is missing');
  }
}

// /dev/vfio/<group> appears once every member of the group is viable; devtmpfs/udev may lag a little.
async function waitForGroupNode(deps: VfioDeps, group: number): Promise<void> {
  const dev = new RootedFs(deps.devRoot ?? '/dev');
  const sleep = deps.sleep ?? defaultSleep;
  const deadline = deps.devWaitMs ?? 5000;
  for (let waited = 0; ; waited += 100) {
    if (await dev.exists(`vfio/${group}`)) return;
    if (waited >= deadline) break;
    await sleep(100);
  }
  throw new XepaError('ERR_VFIO_BIND', `${dev.abs(`vfio/${group}`)} did not appear: IOMMU group ${group} is not viable for vfio`);
}

// Binds devices to vfio-pci the way libvirt does, per BDF: driver_override=vfio-pci, unbind from the current
// driver, drivers_probe, check the driver link; never new_id (it would grab every device with those ids).
// The journal of original drivers is on disk before the first sysfs write and updated after each step.
// Any failure restores what was done and throws ERR_VFIO_BIND naming the device.
export async function bindToVfio(deps: VfioDeps, job: string, targets: BindTarget[]): Promise<VfioBinding> {
  const { sysfs } = deps;
  const log = deps.log.child({ mod: 'vfio', job });
  const file = journalPath(deps.stateDir, job);
  // Each target read once, by agent/pci's one reader: it must exist and be an endpoint (bridges stay with their
  // drivers); its driver and driver_override now are what the journal gives back.
  const found: [BindTarget, PciFunction][] = [];
  for (const t of targets) {
    if (!(await sysfs.exists(`bus/pci/devices/${t.bdf}`))) throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot bind ${t.bdf} to vfio-pci: no such PCI device`);
    const fn = await readPciFunction(sysfs, t.bdf);
    if (fn.headerType !== 'endpoint') throw new XepaError('ERR_VFIO_BIND', `cannot bind ${t.bdf} to vfio-pci: it is a bridge; only endpoints are bound`);
    found.push([t, fn]);
  }
  const devices: JournalEntry[] = found.map(([t, fn]) => ({
    bdf: t.bdf,
    group: t.group,
    originalDriver: fn.driver ?? null,
    originalOverride: fn.driverOverride ?? null,
    step: 'recorded' as const,
  }));
  const journal: VfioJournal = { version: 1, job, createdAt: (deps.now ?? (() => new Date()))().toISOString(), devices };
  await writeJournal(file, journal); // before anything is written to sysfs
  const save = (e: JournalEntry, step: JournalEntry['step']): Promise<void> => ((e.step = step), writeJournal(file, journal));
  const binding: VfioBinding = { journal: file, devices, restore: () => restoreJournal(deps, file) };
  let current: string | undefined;
  try {
    await ensureVfioDriver(deps);
    for (const e of devices) {
      current = e.bdf;
      const dir = `bus/pci/devices/${e.bdf}`;
      if (e.originalDriver === VFIO_DRIVER) {
        log.info({ bdf: e.bdf }, 'already on vfio-pci: left as it is');
        continue;
      }
      await sysfs.write(`${dir}/driver_override`, VFIO_DRIVER);
      await save(e, 'override');
      if (e.originalDriver !== null) {
        await sysfs.write(`${dir}/driver/unbind`, e.bdf);
        await save(e, 'unbound');
      }
      await sysfs.write('bus/pci/drivers_probe', e.bdf);
      const now = await sysfs.readLinkName(`${dir}/driver`);
      if (now !== VFIO_DRIVER) throw new XepaError('ERR_VFIO_BIND', `cannot bind ${e.bdf} to vfio-pci: after drivers_probe it is on ${now ?? 'no driver'}`);
      await save(e, 'bound');
      log.info({ bdf: e.bdf, from: e.originalDriver }, 'bound to vfio-pci');
    }
    current = undefined;
    for (const g of [...new Set(devices.map((d) => d.group))]) await waitForGroupNode(deps, g);
  } catch (err) {
    const report = await binding.restore();
    log.error({ err, bdf: current, problems: report.problems }, 'binding failed: devices restored');
    const why = toWireError(err).message;
    const message = why.startsWith('cannot bind') || current === undefined ? why : `cannot bind ${current} to vfio-pci: ${why}`;
    throw new XepaError('ERR_VFIO_BIND', report.problems.length ? `${message}; restore problems: ${report.problems.join('; ')}` : message, {
      cause: err,
      details: { bdf: current, restore: report },
    });
  }
  return binding;
}
