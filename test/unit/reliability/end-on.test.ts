import { describe, expect, it } from 'vitest';
import { vmOutcome } from '../../../agent/vm/vm-outcome.js';
import { XepaError, methods } from '../../../agent/protocol/index.js';
import { buildQemuArgs, type VmSpec } from '../../../agent/vm/index.js';

// How the end of the VM becomes the end of the job (vm.endOn), and what QEMU is told.
const exit = (o: Partial<Parameters<typeof vmOutcome>[0]>) => ({ code: 0, signal: null, stderrTail: [], ...o });
const failure = (fn: () => unknown): XepaError => {
  try {
    fn();
  } catch (err) {
    return err as XepaError;
  }
  throw new Error('expected a failure');
};

describe('vmOutcome', () => {
  it('is done when the guest powers off, whatever endOn says', () => {
    expect(vmOutcome(exit({ shutdownReason: 'guest-shutdown' }))).toMatch(/powered off/);
    expect(vmOutcome(exit({ shutdownReason: 'guest-shutdown' }), 'reboot')).toMatch(/powered off/);
  });

  it('is done when the guest reboots and the job ends on reboot', () => {
    expect(vmOutcome(exit({ shutdownReason: 'guest-reset' }), 'reboot')).toMatch(/rebooted/);
  });

  it('fails with ERR_QEMU_EXIT and QEMU\'s last lines when QEMU was killed', () => {
    const e = failure(() => vmOutcome(exit({ code: null, signal: 'SIGKILL', stderrTail: ['a', 'b', 'qemu: last words'] })));
    expect(e.code).toBe('ERR_QEMU_EXIT');
    expect(e.message).toMatch(/SIGKILL.*qemu: last words/);
    expect(e.details).toMatchObject({ signal: 'SIGKILL', stderrTail: ['a', 'b', 'qemu: last words'] });
  });

  it('fails with QEMU\'s last lines when QEMU stopped on a signal without a guest power-off', () => {
    const e = failure(() => vmOutcome(exit({ shutdownReason: 'host-signal', stderrTail: ['qemu-system-x86_64: terminating on signal 15 from pid 1'] })));
    expect(e.code).toBe('ERR_QEMU_EXIT');
    expect(e.message).toMatch(/host-signal.*terminating on signal 15/);
  });

  it('fails a guest-reset end when the job was to end on power-off (QEMU was not told to stop on reboot)', () => {
    expect(failure(() => vmOutcome(exit({ shutdownReason: 'guest-reset' }), 'poweroff')).code).toBe('ERR_QEMU_EXIT');
  });
});

describe('endOn in the request and in QEMU\'s arguments', () => {
  const spec: VmSpec = {
    name: 'j', accel: 'tcg', memoryMiB: 256, cpus: 1, firmware: { mode: 'bios' }, disks: [],
    sockets: { qmp: '/r/q', vnc: '/r/v', serial: ['/r/s0', '/r/s1'] },
  };
  it('defaults to poweroff and accepts only poweroff or reboot', () => {
    const base = { iso: { url: 'https://x/y.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: 's' }] };
    expect(methods.install.params.parse(base).vm.endOn).toBe('poweroff');
    expect(methods.install.params.parse({ ...base, vm: { endOn: 'reboot' } }).vm.endOn).toBe('reboot');
    expect(methods.install.params.safeParse({ ...base, vm: { endOn: 'halt' } }).success).toBe(false);
  });

  it('tells QEMU to shut down on a guest reboot only when asked, and names the pid file', () => {
    expect(buildQemuArgs(spec).join(' ')).not.toContain('-action');
    const args = buildQemuArgs({ ...spec, onReboot: 'shutdown', pidFile: '/run/xepa/jobs/j/qemu.pid' });
    expect(args.join(' ')).toContain('-action reboot=shutdown');
    expect(args.join(' ')).toContain('-pidfile /run/xepa/jobs/j/qemu.pid');
  });
});
