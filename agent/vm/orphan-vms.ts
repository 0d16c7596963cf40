import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

// Stops the QEMU processes an earlier run of the agent left behind. When the agent is SIGKILLed its QEMU lives on:
// it would keep writing the disks a new job may then take, and keep the vfio devices the journal restore must
// take back (unbinding a device QEMU holds blocks). Call it before restoring the journal and before serving.
// A pid counts only when /proc/<pid>/cmdline names that job's pid file, so a recycled pid is never killed.
// Returns the pids it stopped.
export async function stopOrphanVms(jobsDir: string, d: OrphanVmDeps): Promise<number[]> {
  const proc = d.procRoot ?? '/proc';
  const kill = d.kill ?? ((pid: number, sig: NodeJS.Signals) => process.kill(pid, sig));
  let ids: string[];
  try {
    ids = await readdir(jobsDir);
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
  const stopped: number[] = [];
  for (const id of ids.sort()) {
    const pidFile = join(jobsDir, id, QEMU_PID_FILE);
    const pid = Number.parseInt((await readIfExists(pidFile)) ?? '', 10);
    if (!Number.isSafeInteger(pid) || pid <= 1) continue;
    const cmdline = (await readIfExists(join(proc, String(pid), 'cmdline'))) ?? '';
    const args = cmdline.split('\0');
    const named = args[args.indexOf('-pidfile') + 1] ?? '';
    if (!args.includes('-pidfile') || !(named === pidFile || named.endsWith(`/${id}/${QEMU_PID_FILE}`)) || (await isGone(proc, pid))) {
      await rm(pidFile, { force: true });
      continue;
    }
    d.log.warn({ job: id, pid }, 'a VM of an earlier agent run is still running: stopping it (SIGKILL)');
    try {
      kill(pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    const deadline = Date.now() + (d.timeoutMs ?? 10_000);
    while (!(await isGone(proc, pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!(await isGone(proc, pid))) d.log.error({ job: id, pid }, 'the VM of an earlier agent run did not end after SIGKILL');
    else stopped.push(pid);
    await rm(pidFile, { force: true });
  }
  return stopped;
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
