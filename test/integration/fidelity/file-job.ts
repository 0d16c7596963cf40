// One install job as the agent runs it (its own steps, real QEMU under TCG) onto a disk image file, for the tests
// that look at what the installer guest sees: the fidelity probe (guest-fidelity) and the guest network (guest-net).
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createToolRunner, fidelityInputs, type GuestNetIsolator } from '../../../agent/fidelity/index.js';
import { Sysfs } from '../../../agent/host/index.js';
import { JobManager, installSteps, makePlan } from '../../../agent/jobs/index.js';
import { InstallRequest, type DiskInfo, type Inventory, type Plan } from '../../../agent/protocol/index.js';
import { syntheticDmiTable } from '../../unit/fidelity/synthetic-dmi.js';

// A host sysfs under `root` with the synthetic server's SMBIOS table and, when asked, a TPM 2.0.
export async function fakeHostSysfs(root: string, o: { tpm?: boolean; entryPoint?: '_SM_' | '_SM3_' } = {}): Promise<Sysfs> {
  await mkdir(join(root, 'firmware/dmi/tables'), { recursive: true });
  await writeFile(join(root, 'firmware/dmi/tables/DMI'), syntheticDmiTable());
  await writeFile(join(root, 'firmware/dmi/tables/smbios_entry_point'), Buffer.from(`${o.entryPoint ?? '_SM_'}\0\0\0\0`, 'latin1'));
  if (o.tpm) {
    await mkdir(join(root, 'class/tpm/tpm0'), { recursive: true });
    await writeFile(join(root, 'class/tpm/tpm0/tpm_version_major'), '2\n');
  }
  return new Sysfs(root);
}

/** The job to run: where, on what kind of server, which ISO (already on disk), and the request's VM and answer. */
export interface FileJob {
  dir: string; // the job's directory: the disk image, isos/ and jobs/ go here
  name: string; // the disk's serial is XEPA-<name>
  sysfs: Sysfs;
  log: Logger;
  iso: { path: string; sha256: string; size: number };
  server: { firmware: 'bios' | 'uefi'; mac: string; cpu: { model: string; cores: number; threads: number } };
  // The install request beyond its ISO and disk: vm, answer, keys.
  request: Record<string, unknown>;
  guestNet?: GuestNetIsolator;
}

// Plans and runs the job: a 64 MiB image file as the server's one disk (nothing to claim), the cached ISO as the
// download; resolves when the job has ended (done or not), with its plan and its first serial port's log path.
export async function runFileJob(o: FileJob) {
  const diskPath = join(o.dir, 'disk.img');
  await mkdir(o.dir, { recursive: true });
  await writeFile(diskPath, '');
  await truncate(diskPath, 64 * 1024 * 1024);
  const disk: DiskInfo = { name: 'vda', path: diskPath, sizeBytes: 64 * 1024 * 1024, serial: `XEPA-${o.name}`, removable: false, readOnly: false, inUse: [] };
  const inventory: Inventory = {
    hostname: 'srv', cpu: { ...o.server.cpu, vendor: 'Intel', virtualization: true, hypervisor: false },
    memory: { totalBytes: 8 * 2 ** 30, availableBytes: 6 * 2 ** 30 }, firmware: { mode: o.server.firmware, secureBoot: false },
    kvm: { device: false, reason: 'test' }, iommu: { enabled: false, groups: 0 }, disks: [disk],
    nics: [{ name: 'eno1', mac: o.server.mac, linkUp: true, addresses: [], defaultRoute: true, virtual: false }], pci: [],
  };
  const req = InstallRequest.parse({ iso: { url: 'http://127.0.0.1/unused.iso', sha256: o.iso.sha256 }, disks: [{ serial: disk.serial }], ...o.request });
  const plan: Plan = makePlan(req, { inventory, accel: { accel: 'tcg', reason: 'test' }, resolveDisks: () => [disk], fidelity: await fidelityInputs({ sysfs: o.sysfs })(req, 'tcg') });
  // The agent's own steps, but the ISO is already here and the disk a file (nothing to claim).
  const steps = installSteps({
    log: o.log, isoDir: join(o.dir, 'isos'), listDisks: async () => [disk], sysfs: o.sysfs, run: createToolRunner(),
    ...(o.guestNet ? { guestNet: o.guestNet } : {}),
    fetch: async () => ({ path: o.iso.path, sha256: o.iso.sha256, size: o.iso.size, reused: true }),
    claim: async () => ({ release: async () => undefined }),
  });
  const jobs = new JobManager(join(o.dir, 'jobs'), { log: o.log, now: () => new Date(), steps });
  const job = jobs.create(req, plan);
  await job.done;
  return { job, plan, serialLog: join(o.dir, 'jobs', job.id, 'serial0.log') };
}
