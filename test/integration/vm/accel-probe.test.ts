import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it, type TestContext } from 'vitest';
import { probeAccel } from '../../../agent/vm/index.js';
import { getProbeKernel } from './probe-kernel.js';

const log = pino({ level: 'silent' });
const found = await getProbeKernel();
// On this machine /dev/kvm opens and SeaBIOS runs under KVM, but a Linux kernel hangs: the probe must say tcg.
// On a host where KVM truly works, set XEPA_EXPECT_ACCEL=kvm.
const expected = process.env.XEPA_EXPECT_ACCEL === 'kvm' ? 'kvm' : 'tcg';
// Machines of this kind differ: some have no /dev/kvm at all (the probe answers tcg without starting QEMU), some
// have one on which a Linux guest hangs (the probe starts one QEMU and kills it at the deadline).
const hasKvm = existsSync('/dev/kvm');

// The probe kernel, or a skip of this test that says why in the report and on stderr.
function kernelOrSkip(ctx: TestContext): string {
  if ('kernel' in found) return found.kernel;
  console.warn(`accel-probe: skipped "${ctx.task.name}": ${found.skip}`);
  return ctx.skip(found.skip);
}

describe('probeAccel on this machine', () => {
  it(`answers ${expected} with a real kernel, and kills the probe QEMU`, async (ctx) => {
    const kernel = kernelOrSkip(ctx);
    const children: ChildProcess[] = [];
    const recordingSpawn = ((...args: Parameters<typeof spawn>) => {
      const child = spawn(...args);
      children.push(child);
      return child;
    }) as typeof spawn;
    const started = Date.now();
    const choice = await probeAccel({ log, probeKernel: kernel, spawn: recordingSpawn, timeoutMs: 20_000 });
    expect(choice.accel).toBe(expected);
    if (expected === 'tcg') expect(choice.reason).toMatch(/no sign of running|cannot be opened|does not exist/);
    expect(Date.now() - started).toBeLessThan(40_000);
    if (!hasKvm) {
      expect(choice.reason).toMatch(/does not exist/);
      expect(children).toHaveLength(0);
      return;
    }
    expect(children).toHaveLength(1);
    const child = children[0]!;
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    expect(child.signalCode === 'SIGKILL' || child.exitCode !== null).toBe(true);
  });

  it('the same kernel runs under TCG on this machine (so the probe really tells KVM apart)', async (ctx) => {
    // Sanity check of the probe's premise: the kernel reaches its panic under TCG well within the timeout.
    const kernel = kernelOrSkip(ctx);
    const child = spawn('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-m', '256', '-nodefaults',
      '-display', 'none', '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await new Promise((r) => child.once('close', r));
    clearTimeout(timer);
    expect(out).toMatch(/Kernel panic|VFS: Unable to mount root/);
  });
});
