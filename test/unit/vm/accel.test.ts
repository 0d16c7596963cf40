import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeAccel } from '../../../agent/vm/index.js';
import { isAlive, writeFakeProgram } from './fake-programs.js';

const log = pino({ level: 'silent' });
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xepa-accel-'));
  await mkdir(join(root, 'dev'));
  await mkdir(join(root, 'boot'));
  await mkdir(join(root, 'proc'));
  await writeFile(join(root, 'dev/kvm'), ''); // opens read-write like the real device
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const BARE_METAL = 'processor\t: 0\nflags\t\t: fpu vme de pse vmx sse4_2\n';
const NESTED = 'processor\t: 0\nflags\t\t: fpu vme de pse sse4_2 hypervisor lahf_lm\n';

describe('probeAccel', () => {
  it('chooses TCG when /dev/kvm does not exist', async () => {
    await rm(join(root, 'dev/kvm'));
    const r = await probeAccel({ log, fsRoot: root });
    expect(r.accel).toBe('tcg');
    expect(r.reason).toMatch(/does not exist/);
  });

  it('chooses TCG when /dev/kvm cannot be opened', async () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const r = await probeAccel({ log, fsRoot: root, openDevice: () => Promise.reject(denied) });
    expect(r).toEqual({ accel: 'tcg', reason: `${join(root, 'dev/kvm')} cannot be opened (EACCES)` });
  });

  it('chooses KVM when the probe kernel reaches a panic under KVM', async () => {
    const qemu = await writeFakeProgram(root, 'qemu', 'echo "[    0.000000] Linux version 6.1"; echo "[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs"; exec sleep 1000');
    await writeFile(join(root, 'boot/vmlinuz-6.1.0-test'), 'kernel');
    const r = await probeAccel({ log, fsRoot: root, kernelRelease: '6.1.0-test', qemuBinary: qemu, timeoutMs: 5000 });
    expect(r.accel).toBe('kvm');
    expect(r.reason).toMatch(/Kernel panic - not syncing/);
  });

  it('chooses TCG when the kernel hangs under KVM, and kills the probe QEMU', async () => {
    const pidFile = join(root, 'pid');
    const qemu = await writeFakeProgram(root, 'qemu', `echo $$ > ${pidFile}; echo "[    0.0] Linux version 6.1"; exec sleep 1000`);
    const r = await probeAccel({ log, fsRoot: root, probeKernel: '/k', qemuBinary: qemu, timeoutMs: 300 });
    expect(r.accel).toBe('tcg');
    expect(r.reason).toMatch(/no sign of running within 300 ms/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    expect(isAlive(pid)).toBe(false);
  });

  it('does not take an early-boot line as proof that KVM works', async () => {
    const qemu = await writeFakeProgram(root, 'qemu', 'echo "[    1.4] VFS: Disk quotas dquot_6.6.0"; exec sleep 1000');
    const r = await probeAccel({ log, fsRoot: root, probeKernel: '/k', qemuBinary: qemu, timeoutMs: 300 });
    expect(r.accel).toBe('tcg');
  });

  it('chooses TCG with QEMU\'s words when QEMU fails to start KVM', async () => {
    const qemu = await writeFakeProgram(root, 'qemu', 'echo "Could not access KVM kernel module: Permission denied" >&2; exit 1');
    const r = await probeAccel({ log, fsRoot: root, probeKernel: '/k', qemuBinary: qemu, timeoutMs: 5000 });
    expect(r.accel).toBe('tcg');
    expect(r.reason).toMatch(/code 1.*Could not access KVM kernel module/);
  });

  it('chooses TCG when QEMU cannot be run at all', async () => {
    const r = await probeAccel({ log, fsRoot: root, probeKernel: '/k', qemuBinary: join(root, 'no-such-qemu'), timeoutMs: 5000 });
    expect(r.accel).toBe('tcg');
    expect(r.reason).toMatch(/cannot run/);
  });

  it('passes the probe kernel and a no-initrd panic command line to QEMU', async () => {
    const argsFile = join(root, 'args');
    const qemu = await writeFakeProgram(root, 'qemu', `printf '%s\\n' "$@" > ${argsFile}; echo "Kernel panic"`);
    await writeFile(join(root, 'boot/vmlinuz'), 'kernel');
    await probeAccel({ log, fsRoot: root, kernelRelease: 'absent', qemuBinary: qemu, timeoutMs: 5000 });
    const args = (await readFile(argsFile, 'utf8')).trim().split('\n');
    expect(args).toEqual(expect.arrayContaining(['-accel', 'kvm', '-kernel', join(root, 'boot/vmlinuz'), '-no-reboot', '-nodefaults']));
    expect(args[args.indexOf('-append') + 1]).toBe('console=ttyS0 panic=-1');
    expect(args).not.toContain('-initrd');
  });

  it('without a kernel, chooses TCG on a virtualized CPU', async () => {
    const r = await probeAccel({ log, fsRoot: root, kernelRelease: 'absent', cpuinfo: NESTED });
    expect(r.accel).toBe('tcg');
    expect(r.reason).toMatch(/hypervisor flag/);
  });

  it('without a kernel, chooses KVM on bare metal, reading /proc/cpuinfo', async () => {
    await writeFile(join(root, 'proc/cpuinfo'), BARE_METAL);
    const r = await probeAccel({ log, fsRoot: root, kernelRelease: 'absent' });
    expect(r.accel).toBe('kvm');
    expect(r.reason).toMatch(/bare metal/);
  });
});
