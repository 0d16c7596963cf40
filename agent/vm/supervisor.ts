import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { XepaError, hasErrno, isXepaError } from '../protocol/index.js';
import { QmpClient } from '../qmp/index.js';
import { buildQemuArgs } from './qemu-args.js';
import { QEMU_BINARY_NAME } from './qemu-binary.js';
import type { VmSpec } from './vm-spec.js';

// How a VM's QEMU ended.
export interface VmExit {
  code: number | null;
  signal: string | null;
  /** From QMP's SHUTDOWN event: 'guest-shutdown', 'host-qmp-quit', 'host-signal', ... */
  shutdownReason?: string;
  /** The last lines QEMU wrote to stderr/stdout (at most STDERR_TAIL_LINES). */
  stderrTail: string[];
}

// A started VM: its QEMU process, the only QMP connection to it, and how to end it.
export interface RunningVm {
  pid: number;
  qmp: QmpClient;
  exited: Promise<VmExit>;
  /** quit over QMP, then SIGTERM, then SIGKILL, waiting graceMs (default 10 s) between steps. */
  stop(graceMs?: number): Promise<VmExit>;
}

// What startVm needs besides the spec; every default is the real thing.
export interface StartVmDeps {
  log: Logger;
  spawn?: typeof nodeSpawn;
  qemuBinary?: string;
  /** How long QEMU gets to open its QMP socket (default 30 s). */
  startTimeoutMs?: number;
}

// How many of QEMU's last output lines are kept for error messages.
export const STDERR_TAIL_LINES = 50;

/**
 * Starts QEMU for `spec` and connects to its QMP socket. If QEMU dies or QMP does not come up in time,
 * rejects with ERR_QEMU_START carrying QEMU's stderr tail (and QEMU is killed).
 */
export async function startVm(spec: VmSpec, deps: StartVmDeps): Promise<RunningVm> {
  const log = deps.log.child({ mod: 'vm', vm: spec.name });
  // Paused (-S) until QMP is up and its event listener attached: QEMU sends no events before the capabilities
  // negotiation, so a guest that reset or powered off in its first milliseconds would end with no reason.
  const args = [...buildQemuArgs(spec), '-S'];
  const binary = deps.qemuBinary ?? QEMU_BINARY_NAME;
  const tail: string[] = [];
  let shutdownReason: string | undefined;
  log.info({ binary, args }, 'starting qemu');
  // In the job's guest network namespace, `ip netns exec` execs QEMU in place (same pid, pid file and all).
  const [cmd, argv] = spec.netns === undefined ? [binary, args] : ['ip', ['netns', 'exec', spec.netns, binary, ...args]];
  const child = (deps.spawn ?? nodeSpawn)(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      log.info({ line }, 'qemu output');
    });
  }
  child.on('error', (err) => tail.push(`cannot run ${binary}: ${err.message}`));
  const processGone = waitForClose(child);
  let qmp: QmpClient | undefined;
  const exited: Promise<VmExit> = processGone.then(async ({ code, signal }) => {
    // QMP's SHUTDOWN event may still be in the socket: let the client drain it (it closes on EOF).
    if (qmp && !qmp.closed) await Promise.race([new Promise((r) => qmp!.once('close', r)), delay(1000)]);
    await qmp?.close();
    const exit: VmExit = { code, signal, stderrTail: [...tail] };
    if (shutdownReason !== undefined) exit.shutdownReason = shutdownReason;
    log.info({ code, signal, shutdownReason }, 'qemu exited');
    return exit;
  });

  try {
    qmp = await connectQmp(spec.sockets.qmp, log, processGone, deps.startTimeoutMs ?? 30_000);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const exit = await exited;
    const why = exit.code !== null || exit.signal !== null ? `exited (${exit.signal ?? `code ${exit.code}`})` : 'did not start';
    const last = exit.stderrTail.slice(-5).join(' | ') || (err as Error).message;
    throw new XepaError('ERR_QEMU_START', `QEMU for ${spec.name} ${why} before QMP was up: ${last}`, {
      cause: err,
      details: { stderrTail: exit.stderrTail },
    });
  }
  qmp.on('event', (ev) => {
    if (ev.event === 'SHUTDOWN' && typeof ev.data.reason === 'string') shutdownReason = ev.data.reason;
    log.info({ event: ev.event, data: ev.data }, 'qmp event');
  });
  // Now the guest may run. Should QEMU die meanwhile, `exited` tells how (the job reads it), not this call.
  await qmp.execute('cont').catch((err: unknown) => log.warn({ err }, 'cont failed: QEMU went away'));

  let stopping: Promise<VmExit> | undefined;
  const stop = (graceMs = 10_000): Promise<VmExit> => {
    stopping ??= stopQemu(child, qmp!, exited, graceMs, log);
    return stopping;
  };
  return { pid: child.pid!, qmp, exited, stop };
}

// Waits for QMP to answer, retrying while the socket does not exist yet; fails fast when QEMU dies.
async function connectQmp(path: string, log: Logger, gone: Promise<unknown>, timeoutMs: number): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void gone.then(() => (dead = true));
  for (;;) {
    if (dead) throw new XepaError('ERR_QEMU_START', 'QEMU exited');
    const left = deadline - Date.now();
    if (left <= 0) throw new XepaError('ERR_TIMEOUT', `QMP socket ${path} did not answer within ${timeoutMs} ms`);
    try {
      const attempt = QmpClient.connect(path, { log, timeoutMs: left });
      const winner = await Promise.race([attempt, gone.then(() => undefined)]);
      if (winner) return winner;
      void attempt.then((c) => c.close(), () => {});
      throw new XepaError('ERR_QEMU_START', 'QEMU exited');
    } catch (err) {
      const notYet = isXepaError(err, 'ERR_CONNECT') && (hasErrno(err.cause, 'ENOENT') || hasErrno(err.cause, 'ECONNREFUSED'));
      if (!notYet) throw err;
      await delay(Math.min(50, Math.max(0, deadline - Date.now())));
    }
  }
}

// quit over QMP, then SIGTERM, then SIGKILL: each step gets graceMs to end the process.
async function stopQemu(child: ChildProcess, qmp: QmpClient, exited: Promise<VmExit>, graceMs: number, log: Logger): Promise<VmExit> {
  const ended = (): Promise<boolean> => Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  await qmp.execute('quit', undefined, { timeoutMs: graceMs }).catch((err: unknown) => {
    log.debug({ err }, 'qmp quit failed'); // QEMU may close QMP before it replies
  });
  if (await ended()) return exited;
  log.warn({ graceMs }, 'qemu ignored quit: SIGTERM');
  child.kill('SIGTERM');
  if (await ended()) return exited;
  log.warn({ graceMs }, 'qemu ignored SIGTERM: SIGKILL');
  child.kill('SIGKILL');
  return exited;
}

function waitForClose(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    // A spawn failure (ENOENT ...) emits 'error'; 'close' may not follow.
    child.on('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
