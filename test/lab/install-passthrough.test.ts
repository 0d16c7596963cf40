// Lab scenario (b): an install through the real CLI passes the server's NVMe controller to the installer VM with
// vfio-pci; the installer writes it; afterwards the rescue system has its NVMe back and the disk image file on the
// host holds the installed system byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../agent/protocol/index.js';
import { nvmeBdfBySerial, readGuestPci, vfioGroupNodes, watchDriver } from './guest-pci.js';
import { firstDifference, isZeroed } from './host-disk.js';
import { describeRun, judgeInstall, runInstall, stateDurations, type InstallRun } from './job-run.js';
import { startLab, type Lab, type LabOptions } from './lab-session.js';
import { LabFlake, withReportedRetries } from './reported-retry.js';

const TARGET = 'XEPA-LAB-TARGET';
// A host-side deadline per attempt: an unloaded run takes 30-60 s; a stalled nested guest never ends.
const INSTALL_DEADLINE_MS = 360_000;
const OPTIONS: LabOptions = { name: 'install', serveIso: true, disks: [{ serial: TARGET, sizeMiB: 256 }] };

describe('the lab server: an install through vfio-pci', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab(OPTIONS);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('passes the NVMe through to the installer VM, gets it back afterwards, and the disk holds the installed system', async () => {
    const diskFile = (): string => lab.vm.disks[0]!.file;
    let bdf = '';
    const { value, failures } = await withReportedRetries(
      'install through vfio-pci',
      2,
      lab.report,
      async (attempt) => {
        bdf = (await nvmeBdfBySerial(lab.vm.shell, TARGET)) ?? '';
        if (!bdf) throw new Error(`no NVMe controller with serial ${TARGET} in the lab server`);
        if (attempt > 1) await wipe(lab, TARGET, diskFile());
        expect(await isZeroed(diskFile(), 1 << 20)).toBe(true);
        const watch = watchDriver(lab.vm.shell, bdf);
        const args = ['--iso-url', lab.isoUrl!, '--sha256', lab.iso!.sha256, '--disk', `serial=${TARGET}`, '--passthrough', 'vfio', '--memory', '256'];
        const run: InstallRun | Error = await runInstall(lab, args, INSTALL_DEADLINE_MS).catch((err: unknown) => err as Error);
        const drivers = await watch.stop();
        if (run instanceof Error) {
          // The CLI lost the agent: a flake only when the whole outer VM is wedged (then it is rebooted).
          if (!(await answers(lab))) throw new LabFlake(`the outer VM stopped answering: ${run.message}`);
          throw run;
        }
        lab.report(`${describeRun(run)}; drivers seen on ${bdf}: ${drivers.join(' -> ')}`);
        await judgeInstall(run, diskFile(), lab.iso!.systemImage);
        return { run, drivers };
      },
      async () => {
        // A wedged outer VM (soft lockup) cannot be reused: boot a fresh one.
        if (!(await answers(lab))) {
          lab.report('the outer VM does not answer: booting a fresh lab for the retry');
          await lab.stop();
          lab = await startLab(OPTIONS);
        }
      },
    );
    const { run, drivers } = value;
    lab.report(`install round trip ${run.seconds.toFixed(1)} s (${failures.length} retr${failures.length === 1 ? 'y' : 'ies'})`);

    // The job bound the controller to vfio-pci, ran the installer with it, and restored it.
    const messages = run.events.map((e) => `${e.state}: ${e.message}`).join('\n');
    expect(messages).toMatch(new RegExp(`binding: bound to vfio-pci: ${bdf}`));
    expect(messages).toMatch(/running: installer running under (KVM|TCG)/);
    expect(messages).toMatch(/restoring: devices restored; 1 disk\(s\) checked back by serial/);
    expect(run.events.at(-1)?.state).toBe('done');
    expect(Object.keys(stateDurations(run.events))).toEqual(expect.arrayContaining(['binding', 'running', 'restoring']));
    // The kernel itself saw the controller leave nvme for vfio-pci and come back.
    expect(drivers).toContain('vfio-pci');
    expect(drivers.at(-1)).toBe('nvme');

    // After restore the rescue system sees its NVMe again, on its own driver, with nothing left on vfio.
    const fn = (await readGuestPci(lab.vm.shell)).find((f) => f.bdf === bdf);
    expect(fn).toMatchObject({ driver: 'nvme', override: undefined });
    expect(await vfioGroupNodes(lab.vm.shell)).toEqual([]);
    const inv = await lab.cli('inventory', '--json');
    expect(inv.code).toBe(0);
    const inventory = Inventory.parse(JSON.parse(inv.out));
    expect(inventory.disks).toEqual(expect.arrayContaining([expect.objectContaining({ serial: TARGET, pciAddress: bdf, inUse: [] })]));
    expect(inventory.pci.find((p) => p.address === bdf)?.driver).toBe('nvme');

    // The server's disk (a file on this host) holds what the installer wrote: the test system image, exactly.
    expect(await firstDifference(diskFile(), lab.iso!.systemImage)).toBeUndefined();
  }, 1_800_000);
});

// Does the outer VM still answer on its control channel?
function answers(lab: Lab): Promise<boolean> {
  return lab.vm.shell.run('true', 15_000).then(() => true, () => false);
}

// Zeroes the start of the target disk from inside the lab (before a retry), and checks it reached the host file.
async function wipe(lab: Lab, serial: string, file: string): Promise<void> {
  await lab.vm.shell.check(
    `for c in /sys/class/nvme/*; do [ "$(tr -d ' ' < $c/serial)" = ${serial} ] && dev=/dev/$(ls $c | grep -m1 '^nvme[0-9]*n1$'); done; ` +
      '[ -b "$dev" ] && dd if=/dev/zero of="$dev" bs=1M count=32 conv=fsync 2>/dev/null && sync',
    60_000,
  );
  if (!(await isZeroed(file, 1 << 20))) throw new Error(`wiping ${serial} before the retry did not reach ${file}`);
}
