import { constants, promises as fs } from 'node:fs';

// Facts about processes and devices, read from /proc and the kernel, for end-state assertions.

// Resident set size of a process in KiB (VmRSS), or its peak (VmHWM).
export async function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
}

// True while the process exists and has not exited (a zombie counts as gone: it holds no files).
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// True when nothing holds the block device exclusively (O_EXCL open succeeds); false on EBUSY.
export async function canOpenExclusive(device: string): Promise<boolean> {
  try {
    const fh = await fs.open(device, constants.O_RDONLY | constants.O_EXCL);
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EBUSY') return false;
    throw err;
  }
}

// Processes whose command line contains `needle` (e.g. a job's QEMU, named guest=xepa-<job>).
export async function pidsWithArg(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').some((a) => a.includes(needle)) && (await isAlive(Number(entry)))) out.push(Number(entry));
  }
  return out;
}

// Kills (SIGKILL, by pid) the processes this test started under `dir` that are still running — a QEMU a failed
// test left behind — so one failure does not leak a VM into the next file.
export async function killStrays(dir: string): Promise<number[]> {
  const pids = (await pidsWithArg(dir)).filter((p) => p !== process.pid);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids;
}
