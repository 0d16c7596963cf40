import { readdirSync, readFileSync } from 'node:fs';

// CPU time of a process and all its descendants, from /proc (the benchmark's "proxy CPU-seconds"): websockify
// forks a child per connection, the XEPA console proxy is one process; both are measured the same way.

const CLK_TCK = 100; // USER_HZ: 100 on every Linux architecture XEPA runs on (getconf CLK_TCK)

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number; // utime + stime + cutime + cstime (children already reaped are in their parent's cutime/cstime)
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on; comm may hold spaces
    return { pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined; // gone between readdir and read
  }
}

// CPU seconds used so far by `root` and every descendant (live, zombie, or reaped).
export function treeCpuSeconds(root: number): number {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(readStat).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let ticks = 0;
  const stack = all.filter((s) => s.pid === root);
  while (stack.length > 0) {
    const s = stack.pop()!;
    ticks += s.ticks;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return ticks / CLK_TCK;
}
