import { connect as netConnect, type Socket } from 'node:net';

// The first-boot TCP check's outcome, for the report.
export interface TcpCheckResult {
  ok: boolean;
  message: string;
}

// What the TCP check may touch; defaults are real (tests pass a loopback server and a fake clock).
export interface TcpCheckDeps {
  connect?: (port: number, host: string) => Socket;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * After `finish --reboot`: waits until the agent's port stops answering (the rescue system is gone: its
 * own sshd must not pass for the installed system's), then until host:port accepts a connection (and,
 * with `banner`, sends a first line containing it, e.g. "SSH-2.0"). Never throws.
 */
export async function checkFirstBoot(o: { host: string; agentPort: number; port: number; banner?: string; timeoutMs: number }, deps: TcpCheckDeps = {}): Promise<TcpCheckResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const end = now() + o.timeoutMs;
  while ((await probe(o.host, o.agentPort, undefined, deps)).open) {
    if (now() > end) return { ok: false, message: `the agent on ${o.host}:${o.agentPort} still answers after ${o.timeoutMs / 1000} s: the server did not reboot` };
    await sleep(2000);
  }
  let last = 'no answer';
  while (now() <= end) {
    const r = await probe(o.host, o.port, o.banner, deps);
    if (r.open && (o.banner === undefined || r.matched)) return { ok: true, message: `${o.host}:${o.port} answers${o.banner ? ` with "${r.line}"` : ''}: the installed system is up` };
    last = r.open ? `answers but its first line "${r.line ?? ''}" lacks "${o.banner ?? ''}"` : 'no answer';
    await sleep(3000);
  }
  return { ok: false, message: `${o.host}:${o.port} ${last} within ${o.timeoutMs / 1000} s of the reboot` };
}

// One connection attempt: open or not, and (with a banner) the first line the service sent.
function probe(host: string, port: number, banner: string | undefined, deps: TcpCheckDeps): Promise<{ open: boolean; matched?: boolean; line?: string }> {
  return new Promise((resolve) => {
    const sock = (deps.connect ?? ((p: number, h: string) => netConnect(p, h)))(port, host);
    let data = '';
    const done = (r: { open: boolean; matched?: boolean; line?: string }): void => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(5000, () => done(data ? { open: true, matched: false, line: data.split('\n')[0]!.trim() } : { open: banner === undefined }));
    sock.on('error', () => done({ open: false }));
    sock.on('connect', () => {
      if (banner === undefined) done({ open: true });
    });
    sock.setEncoding('utf8').on('data', (c: string) => {
      data += c;
      if (data.includes('\n') || data.length > 200) {
        const line = data.split('\n')[0]!.trim();
        done({ open: true, matched: line.includes(banner ?? ''), line });
      }
    });
  });
}
