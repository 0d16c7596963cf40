// Lab scenario (d): the agent is killed (SIGKILL) while the server's NVMe is bound to vfio-pci for an install;
// when it starts again it stops the orphaned VM, restores the driver from its journal, and says what happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, JobSummary } from '../../agent/protocol/index.js';
import { nvmeBdfBySerial, readGuestPci, vfioGroupNodes } from './guest-pci.js';
import { startLab, type Lab } from './lab-session.js';

const TARGET = 'XEPA-LAB-CRASH';

describe('the lab server: an agent killed while a device is bound', () => {
  let lab: Lab;

  beforeAll(async () => {
    // The VM is killed right after binding, so its accelerator does not matter: skip the agent's KVM probe.
    lab = await startLab({ name: 'crash', accel: 'tcg', serveIso: true, disks: [{ serial: TARGET, sizeMiB: 256 }] });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('gives the NVMe back to its nvme driver when the agent starts again after a SIGKILL', async () => {
    const shell = lab.vm.shell;
    const bdf = (await nvmeBdfBySerial(shell, TARGET))!;
    expect(bdf).toBeDefined();
    expect((await readGuestPci(shell)).find((f) => f.bdf === bdf)).toMatchObject({ driver: 'nvme', override: undefined });

    const start = await lab.cli('install', '--iso-url', lab.isoUrl!, '--sha256', lab.iso!.sha256, '--disk', `serial=${TARGET}`,
      '--passthrough', 'vfio', '--memory', '256', '--yes', '--detach', '--json');
    expect(start.err).not.toMatch(/ERR_/);
    expect(start.code).toBe(0);
    const job = JobSummary.parse(JSON.parse(start.out)).id;

    // Inside the server, like an operator at its console: hold the service manager's restart, wait until the
    // controller is on vfio-pci and the installer VM holds its group (the hardest case: a device in use), then
    // kill -9 the agent at once.
    const group = (await readGuestPci(shell)).find((f) => f.bdf === bdf)!.group!;
    const killed = await shell.check(
      'touch /run/xepa-agent.hold; i=0; holder=""; ' +
        `until [ "$(basename "$(readlink /sys/bus/pci/devices/${bdf}/driver)")" = vfio-pci ] && [ -n "$holder" ]; do ` +
        'i=$((i+1)); [ $i -gt 1500 ] && { echo "never bound and held"; exit 3; }; sleep 0.2; ' +
        `for p in $(pidof qemu-system-x86_64); do ls -l /proc/$p/fd 2>/dev/null | grep -q "/dev/vfio/${group}$" && holder=$p; done; done; ` +
        'pid=$(cat /run/xepa-agent.pid); kill -9 "$pid"; echo "killed agent $pid while QEMU $holder held the group"',
      330_000,
    );
    lab.report(`${killed.trim()}: ${bdf}, IOMMU group ${group} (job ${job})`);
    await lab.vm.waitForConsole(/XEPA-LAB: agent exited with status 137/, 0, 30_000);

    // What the crash left behind: the controller still on vfio-pci, and the VM that holds it still running.
    const left = (await readGuestPci(shell)).find((f) => f.bdf === bdf);
    expect(left).toMatchObject({ driver: 'vfio-pci', override: 'vfio-pci' });
    expect(await vfioGroupNodes(shell)).toEqual([String(group)]);
    const holder = /QEMU (\d+) held/.exec(killed)![1]!;
    expect((await shell.run(`kill -0 ${holder}`)).code).toBe(0);

    // Start it again (the service manager's restart) and wait until it answers, with the same identity.
    const mark = lab.vm.consoleLines().length;
    await shell.check('rm -f /run/xepa-agent.hold');
    const again = await lab.vm.waitForAgent(mark, 180_000);
    expect(again.fingerprint).toBe(lab.vm.fingerprint);

    // The kernel says: back on nvme, no override, no vfio group node, no VM left.
    expect((await readGuestPci(shell)).find((f) => f.bdf === bdf)).toMatchObject({ driver: 'nvme', override: undefined });
    expect(await vfioGroupNodes(shell)).toEqual([]);
    expect((await shell.run('pidof qemu-system-x86_64')).output.trim()).toBe('');
    expect(lab.vm.consoleLines().slice(mark).join('\n')).toMatch(/leftover vfio journal: devices restored/);

    // The controller says the same: the disk is back by serial on its controller, and the job ended failed.
    const inv = await lab.cli('inventory', '--json');
    expect(inv.code).toBe(0);
    const inventory = Inventory.parse(JSON.parse(inv.out));
    expect(inventory.pci.find((p) => p.address === bdf)?.driver).toBe('nvme');
    expect(inventory.disks).toEqual(expect.arrayContaining([expect.objectContaining({ serial: TARGET, pciAddress: bdf })]));
    const summary = JobSummary.parse(JSON.parse((await lab.cli('jobs', job, '--json')).out));
    expect(summary.state).toBe('failed');
    expect(summary.error?.code).toBe('ERR_AGENT_RESTARTED');
  });
});
