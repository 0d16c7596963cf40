import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { FinishReport, RescueNetwork } from '../../../agent/protocol/index.js';

// What the first-boot check saw in the end: the service answered (`connected`), or, when the time ran out, the
// agent still answered (`agent-still-up`: the rescue system did not reboot), or the last attempt on the server's
// port was refused (`refused`: the host is up, nothing listens yet), got no answer in time (`timed-out`: no
// SYN-ACK, or no first line when a banner was asked for), answered with another first line (`other-service`) or
// failed otherwise (`unreachable`, with the error code).
export type FirstBootOutcome = 'connected' | 'agent-still-up' | 'refused' | 'timed-out' | 'other-service' | 'unreachable';

// The first-boot TCP check's outcome, for the report: what was seen, and when (ms after the check began).
export interface TcpCheckResult {
  ok: boolean;
  outcome: FirstBootOutcome;
  message: string;
  seen: { agentGoneAfterMs?: number; answeredAfterMs?: number; firstLine?: string; last?: string; attempts: number };
}

// Where the first-boot check looks: the server's own address, port 22 with an SSH banner unless told otherwise.
export function firstBootTarget(report: FinishReport, o: { agentHost: string; host?: string; port?: number; banner?: string }): { host: string; port: number; banner?: string; why: string } {
  const port = o.port ?? 22;
  const banner = o.banner ?? (o.port === undefined ? 'SSH-' : undefined);
  const rescue = report.steps.find((s) => s.step === 'network')?.detail?.rescue as RescueNetwork | undefined;
  const own = rescue ? [...rescue.ipv4, ...rescue.ipv6].map((a) => a.address) : [];
  const base = { port, ...(banner ? { banner } : {}) };
  if (o.host) return { ...base, host: o.host, why: '--check-host' };
  if (own.includes(o.agentHost) || !isIP(o.agentHost) || own.length === 0) return { ...base, host: o.agentHost, why: own.includes(o.agentHost) ? 'the server\'s own address, as the rescue system had it' : 'the address this controller reached the agent on' };
  return { ...base, host: o.agentHost, why: `the address this controller reached the agent on (the rescue system itself had ${own.join(', ')}: give --check-host when those are what the installed system answers on)` };
}

// What the TCP check may touch; defaults are real (tests pass a loopback server and a fake clock).
export interface TcpCheckDeps {
  connect?: (port: number, host: string) => Socket;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  // how long one connection attempt (and its first line) may take; 5 s
  attemptTimeoutMs?: number;
}

/**
 * After `finish --reboot`: waits until the agent's port stops answering (the rescue system is gone: its
 * own sshd must not pass for the installed system's), then until host:port accepts a connection (and,
 * with `banner`, sends a first line containing it, e.g. "SSH-2.0"). Never throws.
 */
export async function checkFirstBoot(o: { host: string; agentPort: number; port: number; banner?: string; timeoutMs: number }, deps: TcpCheckDeps = {}): Promise<TcpCheckResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const start = now();
  const end = start + o.timeoutMs;
  const s = (ms: number): string => `${Math.round(ms / 1000)} s`;
  const seen: TcpCheckResult['seen'] = { attempts: 0 };
  while ((await probe(o.host, o.agentPort, undefined, deps)).open) {
    if (now() > end) return { ok: false, outcome: 'agent-still-up', message: `the agent on ${o.host}:${o.agentPort} still answers after ${o.timeoutMs / 1000} s: the server did not reboot`, seen };
    await sleep(2000);
  }
  seen.agentGoneAfterMs = now() - start;
  let outcome: FirstBootOutcome = 'timed-out';
  let last = 'no attempt';
  do {
    const r = await probe(o.host, o.port, o.banner, deps);
    seen.attempts++;
    if (r.open && (o.banner === undefined || r.matched)) {
      seen.answeredAfterMs = now() - start;
      if (r.line) seen.firstLine = r.line;
      return { ok: true, outcome: 'connected', message: `${o.host}:${o.port} answers${o.banner ? ` with "${r.line}"` : ''} ${s(seen.answeredAfterMs)} after finish (the agent was gone after ${s(seen.agentGoneAfterMs)}): the installed system is up`, seen };
    }
    [outcome, last] = failureOf(r, o.banner);
    seen.last = last;
    if (now() > end) break;
    await sleep(3000);
  } while (now() <= end);
  return { ok: false, outcome, message: `${o.host}:${o.port} ${last} within ${o.timeoutMs / 1000} s of the reboot, ${seen.attempts} attempt(s) (the agent was gone after ${s(seen.agentGoneAfterMs)})`, seen };
}

type Attempt = { open: boolean; matched?: boolean; line?: string; error?: string };

// Why one attempt did not pass, in the outcome's terms and in words.
function failureOf(r: Attempt, banner: string | undefined): [FirstBootOutcome, string] {
  if (r.open && r.line !== undefined) return ['other-service', `answers but its first line "${r.line}" lacks "${banner ?? ''}"`];
  if (r.open) return ['timed-out', `accepts connections but sent no first line with "${banner ?? ''}"`];
  if (r.error === 'ECONNREFUSED') return ['refused', 'refused the connection (ECONNREFUSED: up, but nothing listens)'];
  if (r.error === 'timed out') return ['timed-out', 'did not answer (connection timed out)'];
  return ['unreachable', `could not be reached (${r.error ?? 'closed'})`];
}

// One connection attempt: open or not, and (with a banner) the first line the service sent.
function probe(host: string, port: number, banner: string | undefined, deps: TcpCheckDeps): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = (deps.connect ?? ((p: number, h: string) => netConnect(p, h)))(port, host);
    let data = '';
    let connected = false;
    const done = (r: Attempt): void => {
      sock.destroy();
      resolve(r);
    };
    // a connection that opened but sent no line: open, no line (the caller asked for a banner)
    sock.setTimeout(deps.attemptTimeoutMs ?? 5000, () => done(data ? { open: true, matched: false, line: data.split('\n')[0]!.trim() } : connected ? { open: true } : { open: false, error: 'timed out' }));
    sock.on('error', (err: NodeJS.ErrnoException) => done({ open: false, error: err.code ?? err.message }));
    sock.on('connect', () => {
      connected = true;
      if (banner === undefined) done({ open: true });
    });
    sock.on('end', () => done(data ? { open: true, matched: data.includes(banner ?? ''), line: data.split('\n')[0]!.trim() } : { open: true, line: '' }));
    sock.setEncoding('utf8').on('data', (c: string) => {
      data += c;
      if (data.includes('\n') || data.length > 200) {
        const line = data.split('\n')[0]!.trim();
        done({ open: true, matched: line.includes(banner ?? ''), line });
      }
    });
  });
}
