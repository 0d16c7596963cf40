import { spawn as nodeSpawn } from 'node:child_process';
import { XepaError } from '../protocol/index.js';

// What one run of a host tool gave back.
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Runs a host tool (xorriso, mtools, sfdisk, efibootmgr ...) to completion (mtools without its geometry check); injected everywhere so
// tests pass fake tools. `input` is written to its stdin.
export type ToolRunner = (cmd: string, args: string[], opts?: { input?: string | Buffer }) => Promise<ToolResult>;

/**
 * The real runner: spawns `cmd`, collects stdout and stderr, never rejects on a non-zero exit (the caller
 * reads `code`); a tool that is not installed is ERR_TOOL_MISSING naming the package to install.
 */
export function createToolRunner(spawn: typeof nodeSpawn = nodeSpawn, packages: Record<string, string> = TOOL_PACKAGES): ToolRunner {
  return (cmd, args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', MTOOLS_SKIP_CHECK: '1' } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => out.push(c));
      child.stderr?.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          reject(new XepaError('ERR_TOOL_MISSING', `${cmd} is not installed on this host (package ${packages[cmd] ?? cmd})`, { details: { tool: cmd, package: packages[cmd] ?? cmd } }));
        } else reject(new XepaError('ERR_INTERNAL', `cannot run ${cmd}: ${e.message}`, { cause: e }));
      });
      child.stdin?.on('error', () => undefined); // a tool that exits without reading its input
      child.stdin?.end(opts.input ?? '');
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
}

// The package that provides each tool (Debian and Alpine use the same names for these).
export const TOOL_PACKAGES: Record<string, string> = {
  xorriso: 'xorriso',
  mformat: 'mtools',
  mcopy: 'mtools',
  mmd: 'mtools',
  mdir: 'mtools',
  mtype: 'mtools',
  sfdisk: 'fdisk (util-linux)',
  efibootmgr: 'efibootmgr',
  swtpm: 'swtpm',
  reboot: 'systemd or busybox',
  // the guest's isolated network (agent/vm/guest-net.ts)
  ip: 'iproute2',
  nft: 'nftables',
  sysctl: 'procps',
  // finish opens the installed root (agent/landing)
  mount: 'mount (util-linux)',
  umount: 'mount (util-linux)',
  modprobe: 'kmod',
};

// Throws ERR_<code> with the tool's last stderr line when it failed.
export function checkTool(r: ToolResult, what: string, code: 'ERR_ANSWER_MEDIUM' | 'ERR_EFI_BOOT' | 'ERR_INTERNAL' = 'ERR_INTERNAL'): ToolResult {
  if (r.code === 0) return r;
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  throw new XepaError(code, `${what} failed (exit ${r.code})${last ? `: ${last}` : ''}`, { details: { exitCode: r.code, stderr: r.stderr.slice(-2000) } });
}
