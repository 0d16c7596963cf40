import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { QEMU_PID_FILE, stopOrphanVm } from '../../../agent/vm/orphan-vms.js';
import { silentLog } from '../api/fixtures.js';

// A stand-in for a QEMU left behind by a SIGKILLed agent: a real process whose command line names its pid file.
const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), 'xepa-orphans-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function fakeVm(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', '--', ...args], { stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve) => child.once('spawn', () => resolve(child)));
}
const exited = (c: ChildProcess): Promise<string | null> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.signalCode) : new Promise((r) => c.once('exit', (_code, sig) => r(sig)));

describe('stopOrphanVm (the boot step\'s recovery)', () => {
  it('kills the VM a job\'s pid file names when its command line names that pid file, and removes the file', async () => {
    const jobs = join(work, 'a');
    const pidFile = join(jobs, 'job-1', QEMU_PID_FILE);
    mkdirSync(join(jobs, 'job-1'), { recursive: true });
    const vm = await fakeVm(['-name', 'guest=xepa-job-1', '-pidfile', pidFile]);
    writeFileSync(pidFile, `${vm.pid}\n`);
    const stopped = await stopOrphanVm(join(jobs, 'job-1'), { log: silentLog() });
    expect(stopped).toBe(vm.pid);
    expect(await exited(vm)).toBe('SIGKILL');
    expect(existsSync(pidFile)).toBe(false);
  });

  it('leaves alone a live process whose pid is in the file but whose command line is another program (recycled pid)', async () => {
    const jobs = join(work, 'b');
    mkdirSync(join(jobs, 'job-2'), { recursive: true });
    const other = await fakeVm(['-pidfile', '/elsewhere/job-2/not-qemu.pid']);
    writeFileSync(join(jobs, 'job-2', QEMU_PID_FILE), String(other.pid));
    expect(await stopOrphanVm(join(jobs, 'job-2'), { log: silentLog() })).toBeUndefined();
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
  });

  it('removes a stale pid file whose process is gone, and copes with no job directory at all', async () => {
    const jobs = join(work, 'c');
    mkdirSync(join(jobs, 'job-3'), { recursive: true });
    const gone = await fakeVm([]);
    gone.kill('SIGKILL');
    await exited(gone);
    writeFileSync(join(jobs, 'job-3', QEMU_PID_FILE), String(gone.pid));
    expect(await stopOrphanVm(join(jobs, 'job-3'), { log: silentLog() })).toBeUndefined();
    expect(existsSync(join(jobs, 'job-3', QEMU_PID_FILE))).toBe(false);
    expect(await stopOrphanVm(join(work, 'none', 'job-4'), { log: silentLog() })).toBeUndefined();
  });
});
