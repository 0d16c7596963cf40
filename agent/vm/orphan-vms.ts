import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { isENOENT } from '../protocol/index.js';

// The pid file QEMU writes in each job's directory (InstallJob passes it as `-pidfile`).
export const QEMU_PID_FILE = 'qemu.pid';

/** The outside world of stopOrphanVms, injectable. */
export interface OrphanVmDeps {
  log: Logger;
  procRoot?: string; // default /proc
  kill?: (pid: number, signal: NodeJS.Signals) => void; // default process.kill
  timeoutMs?: number; // how long to wait for each to go, default 10 s
}

// Stops the QEMU an earlier run of the agent left behind for one job (the boot step's recovery). When the agent
// is SIGKILLed its QEMU lives on: it would keep writing the disks a new job may then take, and keep the vfio
// devices the journal restore must take back (unbinding a device QEMU holds blocks), so this runs first.
// The pid counts only when /proc/<pid>/cmdline names this job's pid file, so a recycled pid is never killed.
// Returns the pid it stopped.
export async function stopOrphanVm(jobDir: string, d: OrphanVmDeps): Promise<number | undefined> {
  const proc = d.procRoot ?? '/proc';
  const kill = d.kill ?? ((pid: number, sig: NodeJS.Signals) => process.kill(pid, sig));
  const id = basename(jobDir);
  const pidFile = join(jobDir, QEMU_PID_FILE);
  const pid = Number.parseInt((await readIfExists(pidFile)) ?? '', 10);
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  const cmdline = (await readIfExists(join(proc, String(pid), 'cmdline'))) ?? '';
  const args = cmdline.split('\0');
  const named = args[args.indexOf('-pidfile') + 1] ?? '';
  if (!args.includes('-pidfile') || !(named === pidFile || named.endsWith(`/${id}/${QEMU_PID_FILE}`)) || (await isGone(proc, pid))) {
    await rm(pidFile, { force: true });
    return undefined;
  }
  d.log.warn({ job: id, pid }, 'a VM of an earlier agent run is still running: stopping it (SIGKILL)');
  try {
    kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  const deadline = Date.now() + (d.timeoutMs ?? 10_000);
  while (!(await isGone(proc, pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await rm(pidFile, { force: true });
  if (await isGone(proc, pid)) return pid;
  d.log.error({ job: id, pid }, 'the VM of an earlier agent run did not end after SIGKILL');
  return undefined;
}

// Gone, or a zombie (it has exited and closed every file; only its parent's wait is missing).
async function isGone(proc: string, pid: number): Promise<boolean> {
  const stat = await readIfExists(join(proc, String(pid), 'stat'));
  if (stat === undefined) return true;
  // /proc/<pid>/stat: "pid (comm) S ..." — comm may hold spaces and parentheses, so read after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err) || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}
