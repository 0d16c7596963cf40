import { toWireError } from '../protocol/index.js';
import { type JournalEntry, readJournal, removeJournal, writeJournal } from './journal.js';
import { VFIO_DRIVER, type VfioDeps } from './vfio-deps.js';

// What restoring a journal achieved: each device's driver afterwards, and the problems (empty: all back).
export interface RestoreReport {
  job: string;
  devices: { bdf: string; driver: string | null; expected: string | null }[];
  problems: string[];
}

// Undoes one device, idempotently (it may be half bound or already restored): driver_override back to its
// original value, unbind from vfio-pci, drivers_probe (the kernel rebinds the original driver), then check.
async function restoreDevice(deps: VfioDeps, e: JournalEntry): Promise<string | null> {
  const { sysfs } = deps;
  const dir = `bus/pci/devices/${e.bdf}`;
  // Writing a lone newline clears driver_override (drivers/base/driver.c: driver_set_override).
  await sysfs.write(`${dir}/driver_override`, e.originalOverride ?? '\n');
  if ((await sysfs.readLinkName(`${dir}/driver`)) === VFIO_DRIVER) await sysfs.write(`${dir}/driver/unbind`, e.bdf);
  if ((await sysfs.readLinkName(`${dir}/driver`)) === undefined) await sysfs.write('bus/pci/drivers_probe', e.bdf);
  return (await sysfs.readLinkName(`${dir}/driver`)) ?? null;
}

// Restores every device a journal names, last bound first; removes the journal when all are back, keeps it
// (for the next agent start) when not. Never throws for a device: problems are collected and reported.
export async function restoreJournal(deps: VfioDeps, file: string): Promise<RestoreReport> {
  const log = deps.log.child({ mod: 'vfio' });
  const journal = await readJournal(file);
  if (!journal) return { job: '?', devices: [], problems: [] };
  const report: RestoreReport = { job: journal.job, devices: [], problems: [] };
  for (const e of [...journal.devices].reverse()) {
    // Untouched, or on vfio-pci before XEPA came (the operator's choice): nothing to undo.
    if (e.step === 'recorded' || e.originalDriver === VFIO_DRIVER) continue;
    try {
      const driver = await restoreDevice(deps, e);
      report.devices.push({ bdf: e.bdf, driver, expected: e.originalDriver });
      if (e.originalDriver !== null && driver !== e.originalDriver) {
        report.problems.push(`${e.bdf} is on ${driver ?? 'no driver'} instead of ${e.originalDriver} after restore`);
      } else if (driver === VFIO_DRIVER) {
        report.problems.push(`${e.bdf} is still on vfio-pci after restore`);
      } else {
        e.step = 'recorded';
        await writeJournal(file, journal);
        log.info({ bdf: e.bdf, driver }, 'restored');
      }
    } catch (err) {
      report.problems.push(`${e.bdf}: restore failed: ${toWireError(err).message}`);
    }
  }
  if (report.problems.length === 0) await removeJournal(file);
  else log.error({ job: journal.job, problems: report.problems, journal: file }, 'restore incomplete: journal kept for the next start');
  return report;
}
