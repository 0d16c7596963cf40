import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { XepaError } from '../../agent/protocol/index.js';

export interface LocalAgent {
  url: string;
  fingerprint: string;
  agentId: string;
  pid: number;
  logLines: string[]; // the agent's JSON log, kept for the demo's report
  stop(): Promise<void>;
}

// Starts the bundled agent as a child process on loopback and waits for its "agent listening" log line.
export async function startLocalAgent(o: {
  bundle: string;
  stateDir: string;
  trustedKeyFile: string;
  probeKernel?: string;
  extraArgs?: string[];
  timeoutMs?: number;
}): Promise<LocalAgent> {
  const args = [o.bundle, '--host', '127.0.0.1', '--port', '0', '--state-dir', o.stateDir, '--trust', o.trustedKeyFile];
  if (o.probeKernel) args.push('--probe-kernel', o.probeKernel);
  args.push(...(o.extraArgs ?? []));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<{ port: number; fingerprint: string; agentId: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      logLines.push(l);
      try {
        const rec = JSON.parse(l) as { msg?: string; port?: number; fingerprint?: string; agentId?: string };
        if (rec.msg === 'agent listening' && rec.port && rec.fingerprint && rec.agentId) {
          resolve({ port: rec.port, fingerprint: rec.fingerprint, agentId: rec.agentId });
        }
      } catch {
        // not JSON: keep it in the log
      }
    });
    void exited.then(() => reject(new XepaError('ERR_CONNECT', `the agent exited before listening: ${(stderr.join('') || logLines.slice(-3).join('\n')).trim()}`)));
    setTimeout(() => reject(new XepaError('ERR_TIMEOUT', 'the agent did not start listening in time')), o.timeoutMs ?? 20_000).unref();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  };
  try {
    const l = await listening;
    return { url: `wss://127.0.0.1:${l.port}`, fingerprint: l.fingerprint, agentId: l.agentId, pid: child.pid!, logLines, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
