// The host's end of the lab's control channel: a root shell inside the outer VM on a virtio-serial port
// (like a BMC's serial console). Used to look at sysfs directly and to kill the agent; never by the agent's
// own code paths, so what the tests assert through the CLI stays independent of it.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { XepaError } from '../../agent/protocol/errors.js';

// What one command produced: its exit status and its output (stdout and stderr merged).
export interface ShellResult {
  code: number;
  output: string;
}

// A connected control shell; commands run one at a time in order.
export interface LabShell {
  // Runs a shell script (any sh syntax) with stdin from /dev/null; rejects with ERR_TIMEOUT after timeoutMs.
  run(script: string, timeoutMs?: number): Promise<ShellResult>;
  // Like run, but rejects when the exit status is not 0.
  check(script: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

// Connects to the control socket QEMU serves (retrying until QEMU has created it) and waits for the shell.
export async function openLabShell(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<LabShell> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let socket: Socket | undefined;
  while (!socket) {
    try {
      socket = await connectUnix(socketPath);
    } catch (err) {
      if (Date.now() > deadline) throw new XepaError('ERR_CONNECT', `lab control socket ${socketPath}: ${(err as Error).message}`, { cause: err });
      await sleep(200);
    }
  }
  const shell = new Shell(socket);
  // The guest starts its shell late in boot; until then our bytes wait in QEMU's socket buffer.
  await shell.check('true', Math.max(1_000, deadline - Date.now()));
  return shell;
}

class Shell implements LabShell {
  private buffer = '';
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  run(script: string, timeoutMs = 30_000): Promise<ShellResult> {
    const next = this.queue.then(() => this.exec(script, timeoutMs));
    this.queue = next.catch(() => {});
    return next;
  }

  async check(script: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(script, timeoutMs);
    if (r.code !== 0) throw new XepaError('ERR_INTERNAL', `lab shell: \`${script}\` exited ${r.code}: ${r.output.trim().slice(-500)}`);
    return r.output;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private async exec(script: string, timeoutMs: number): Promise<ShellResult> {
    const tag = `@@XEPA-LAB-${process.pid}-${++this.seq}@@`;
    // Sent as base64 into a file so quoting and syntax errors stay inside the child sh (a syntax error in the
    // reading shell itself would end it).
    const b64 = Buffer.from(script).toString('base64');
    this.socket.write(`echo ${b64} | base64 -d > /run/.lab-cmd; sh /run/.lab-cmd < /dev/null 2>&1; echo "${tag}$?${tag}"\n`);
    const end = new RegExp(`${tag}(\\d+)${tag}\\n?`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = end.exec(this.buffer);
      if (m) {
        const output = this.buffer.slice(0, m.index);
        this.buffer = this.buffer.slice(m.index + m[0].length);
        return { code: Number(m[1]), output };
      }
      if (this.closed) throw new XepaError('ERR_CONNECT', `lab shell closed while running \`${script}\``);
      const left = deadline - Date.now();
      if (left <= 0) throw new XepaError('ERR_TIMEOUT', `lab shell: \`${script}\` did not finish within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1_000));
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
