// Runs build-test-iso.sh with bash: stderr lines go to the log as they come, stdout KEY=VALUE lines are returned.
import * as childProcess from 'node:child_process';
import { XepaError } from '../../agent/protocol/errors.js';

// The result of one script run: its exit code, its KEY=VALUE stdout lines, and the tail of its stderr.
export interface ScriptRun {
  code: number;
  values: Record<string, string>;
  stderrTail: string[];
}

// Runs `bash scriptPath ...args`; never rejects on a non-zero exit (the caller reads `code`), only when bash is missing.
export function runBuildScript(
  scriptPath: string,
  args: string[],
  deps: { spawn?: typeof childProcess.spawn; log?: (line: string) => void } = {},
): Promise<ScriptRun> {
  const spawn = deps.spawn ?? childProcess.spawn;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [scriptPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
    });
    let stdout = '';
    let pending = '';
    const stderrTail: string[] = [];
    const onLine = (line: string): void => {
      if (!line.trim()) return;
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      deps.log?.(line);
    };
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      const lines = (pending + c).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.on('error', (err) => reject(new XepaError('ERR_CONFIG', `cannot run bash for the test ISO builder: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      onLine(pending);
      const values: Record<string, string> = {};
      for (const line of stdout.split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) values[m[1]!] = m[2]!;
      }
      resolve({ code: code ?? -1, values, stderrTail });
    });
  });
}
