import { XepaError } from '../../agent/protocol/index.js';

/** What one remote command produced. */
export interface ExecResult {
  code: number; // exit status (-1 when killed by a signal)
  stdout: Buffer;
  stderr: string;
}

/** A shell on the rescue system: runs POSIX sh scripts as the SSH user. Tests provide fakes. */
export interface RemoteShell {
  exec(script: string, opts?: { stdin?: Buffer | string }): Promise<ExecResult>;
  close(): void;
}

// Single-quotes a value for sh.
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// A sane PATH on every rescue system (sshd's default may lack the sbin directories for non-login shells).
export const REMOTE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; LC_ALL=C; export LC_ALL';

// The last non-empty line of a command's error output, for messages.
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '(no output)';
}

// Runs a script and returns its stdout; a non-zero exit is ERR_REMOTE_COMMAND naming the step.
export async function runRemote(shell: RemoteShell, what: string, script: string, stdin?: Buffer | string): Promise<string> {
  const r = await shell.exec(script, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) {
    throw new XepaError('ERR_REMOTE_COMMAND', `${what} failed on the rescue system (exit ${r.code}): ${lastLine(r.stderr || r.stdout.toString('utf8'))}`, {
      details: { exitCode: r.code, stderr: r.stderr.slice(-2000) },
    });
  }
  return r.stdout.toString('utf8');
}
