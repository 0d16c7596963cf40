import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { XepaError } from '../protocol/index.js';

// A running per-job TPM emulator: its control socket (for QEMU's -tpmdev emulator) and how to stop it.
export interface RunningSwtpm {
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

// What startSwtpm may touch; defaults are the real ones.
export interface SwtpmDeps {
  spawn?: typeof nodeSpawn;
  binary?: string;
  /** How long the control socket may take to appear (default 10 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Starts swtpm as a TPM 2.0 socket emulator whose state lives in <jobDir>/tpm (a fresh TPM per job: nothing
 * of the host's TPM is copied or reachable). `--terminate` ends it when QEMU closes the connection; stop()
 * ends it in every other case. Throws ERR_TOOL_MISSING (no swtpm) or ERR_QEMU_START (it did not come up).
 */
export async function startSwtpm(jobDir: string, deps: SwtpmDeps = {}): Promise<RunningSwtpm> {
  const spawn = deps.spawn ?? nodeSpawn;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const state = join(jobDir, 'tpm');
  const socket = join(jobDir, 'swtpm.sock');
  await mkdir(state, { recursive: true, mode: 0o700 });
  const args = ['socket', '--tpm2', '--tpmstate', `dir=${state},mode=0600`, '--ctrl', `type=unixio,path=${socket}`,
    '--terminate', '--log', `file=${join(jobDir, 'swtpm.log')},level=1`];
  const child: ChildProcess = spawn(deps.binary ?? 'swtpm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited: string | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c).length > 4000 && (stderr = stderr.slice(-4000)));
  child.on('error', (err: NodeJS.ErrnoException) => (spawnError = err));
  child.on('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  const deadline = deps.timeoutMs ?? 10_000;
  for (let waited = 0; ; waited += 50) {
    if (spawnError) {
      if (spawnError.code === 'ENOENT') throw new XepaError('ERR_TOOL_MISSING', 'swtpm is not installed (Debian: apt-get install swtpm; Alpine: apk add swtpm)', { details: { tool: 'swtpm' } });
      throw new XepaError('ERR_QEMU_START', `cannot start swtpm: ${spawnError.message}`, { cause: spawnError });
    }
    if (exited) throw new XepaError('ERR_QEMU_START', `swtpm ended before it listened (${exited}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
    if (await exists(socket)) break;
    if (waited >= deadline) {
      child.kill('SIGKILL');
      throw new XepaError('ERR_QEMU_START', `swtpm did not create ${socket} within ${deadline} ms`);
    }
    await sleep(50);
  }
  return {
    socket,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
