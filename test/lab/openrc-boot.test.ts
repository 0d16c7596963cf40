// Issue 6 in the lab: a rescue system whose init is OpenRC (busybox init + Debian's openrc, the same service
// script as alpine/) starts the agent at boot with nobody logging in; the real CLI reaches it through the forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../agent/protocol/index.js';
import { openrcInitScript, RESCUE_PATHS } from '../../alpine/index.js';
import { startLab, type Lab } from './lab-session.js';
import { ensureOpenrcRescueImage } from './openrc-image.js';

const DISK = 'XEPA-LAB-OPENRC';

describe('the lab server with an OpenRC rescue system', () => {
  let lab: Lab;

  beforeAll(async () => {
    // No VM runs here: a fixed accelerator spares the agent's KVM probe.
    lab = await startLab({ name: 'openrc', accel: 'tcg', disks: [{ serial: DISK, sizeMiB: 16 }], image: ensureOpenrcRescueImage });
    lab.report(`OpenRC rescue boot: agent answering ${lab.vm.bootSeconds.toFixed(1)} s after QEMU started`);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('starts the agent from the default runlevel with the service script alpine/ renders', async () => {
    const sh = lab.vm.shell;
    expect((await sh.run(`cat ${RESCUE_PATHS.openrcScript}`)).output).toBe(openrcInitScript());
    expect((await sh.run(`readlink ${RESCUE_PATHS.openrcRunlevelLink}`)).output.trim()).toBe(RESCUE_PATHS.openrcScript);
    // PID 1 is busybox init, which ran OpenRC's runlevels; nothing else started the agent.
    expect((await sh.run('readlink /proc/1/exe')).output.trim()).toMatch(/busybox$/);
    expect((await sh.run('rc-status --runlevel')).output.trim()).toBe('default');
    const status = await sh.run('rc-service xepa-agent status');
    expect(status.output).toMatch(/status: started/);
    expect(status.code).toBe(0);
    // supervise-daemon is the agent's parent.
    const ppid = await sh.run(`for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = ${RESCUE_PATHS.node} ] && awk '/^PPid/ { print $2 }' $p/status; done`);
    const parent = await sh.run(`tr '\\0' ' ' < /proc/${ppid.output.trim().split('\n')[0]}/cmdline`);
    expect(parent.output).toMatch(/supervise-daemon xepa-agent/);
    expect((await sh.run(`grep -c '"agent listening"' ${RESCUE_PATHS.log}`)).output.trim()).not.toBe('0');
  });

  it('answers /v1/health and a real `xepa inventory` through the port forward', async () => {
    const inv = await lab.cli('inventory', '--json');
    expect(inv.err).toBe('');
    expect(inv.code).toBe(0);
    const parsed = Inventory.parse(JSON.parse(inv.out));
    expect(parsed.disks.map((d) => d.serial)).toContain(DISK);
  });
});
