import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { XepaError } from '../../../agent/protocol/index.js';

/** `xepa serve` running as its own process (the real bundle, with its embedded browser files). */
export interface ServeProcess {
  link: string; // the one-time login link it printed
  origin: string;
  logLines: string[]; // its JSON log (stderr)
  stop(): Promise<number | null>;
}

// Starts `node dist/xepa.mjs serve ... --print-login` and waits for the printed login link.
export async function startServeProcess(bundle: string, args: string[], timeoutMs = 30_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bundle, 'serve', ...args, '--print-login'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => logLines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    return exited;
  };
  try {
    const link = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      void exited.then((code) => reject(new XepaError('ERR_CONNECT', `xepa serve exited (${code}): ${logLines.slice(-5).join('\n')}`)));
      setTimeout(() => reject(new XepaError('ERR_TIMEOUT', `xepa serve printed no login link: ${logLines.slice(-5).join('\n')}`)), timeoutMs).unref();
    });
    return { link, origin: new URL(link).origin, logLines, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
