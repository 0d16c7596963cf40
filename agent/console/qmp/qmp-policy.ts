import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { XepaError } from '../../protocol/index.js';

// The QMP commands a /v1/qmp client may run (DESIGN §5): power, media, screen and input, and read-only queries.
// Anything else (human-monitor-command, device_add, migrate, object-add ...) could reach beyond the guest.
export const QMP_ALLOWED_COMMANDS: readonly string[] = [
  'query-status',
  'query-block',
  'query-name',
  'query-version',
  'query-kvm',
  'query-mice',
  'query-cpus-fast',
  'stop',
  'cont',
  'system_powerdown',
  'system_reset',
  'system_wakeup',
  'quit',
  'eject',
  'blockdev-change-medium',
  'screendump',
  'send-key',
  'input-send-event',
];

/** Where a QMP client's file arguments may point. */
export interface QmpPolicyContext {
  jobDir: string; // screendumps are written to <jobDir>/screendumps/
  mediaDirs: readonly string[]; // the agent's ISO cache: its verified `<sha256>.iso` files may be inserted
  realpath?: (path: string) => string; // default fs.realpathSync (symlinks cannot lead out)
  isFile?: (path: string) => boolean; // default: fs.statSync(path).isFile()
}

// Where screendump files go inside the job directory.
export const SCREENDUMP_DIR = 'screendumps';

const forbidden = (msg: string): XepaError => new XepaError('ERR_FORBIDDEN', msg);

// Checks one command against the allow-list and its file arguments against the context; returns the arguments
// to send (screendump's filename rewritten into the job directory). Throws ERR_FORBIDDEN with a reason.
export function checkQmpCommand(command: string, args: Record<string, unknown> | undefined, ctx: QmpPolicyContext): Record<string, unknown> | undefined {
  if (!QMP_ALLOWED_COMMANDS.includes(command)) {
    throw forbidden(`command "${command}" is not allowed through the XEPA agent; allowed: ${QMP_ALLOWED_COMMANDS.join(', ')}`);
  }
  if (command === 'screendump') return screendumpArgs(args, ctx);
  if (command === 'blockdev-change-medium') return changeMediumArgs(args, ctx);
  return args;
}

// screendump writes a file as the agent's user: only a plain name, placed in the job's screendump directory.
function screendumpArgs(args: Record<string, unknown> | undefined, ctx: QmpPolicyContext): Record<string, unknown> {
  const name = args?.filename;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw forbidden('screendump: "filename" must be a plain file name (letters, digits, . _ -); it is written to the job\'s screendumps directory');
  }
  return { ...args, filename: join(ctx.jobDir, SCREENDUMP_DIR, name) };
}

// The only media a client may insert: a file of the agent's ISO cache under its verified name. The fetcher
// writes `<sha256>.iso.part` and renames it to `<sha256>.iso` only once the digest matched (a reused one is
// hashed again first), and the cache directory is the agent's own (checked at start: agent/api/state-dir.ts),
// so a digest name means a complete, verified ISO. Partial downloads, sidecars, other names, directories,
// devices and anything reached through a symlink that leads out of the cache are refused.
const VERIFIED_ISO = /^[0-9a-f]{64}\.iso$/;
const CHANGE_MEDIUM_ARGS = new Set(['id', 'device', 'filename', 'format', 'force', 'read-only-mode']);

// blockdev-change-medium opens a host file for the guest: only verified ISOs of the cache, raw, read-only.
function changeMediumArgs(args: Record<string, unknown> | undefined, ctx: QmpPolicyContext): Record<string, unknown> {
  const extra = Object.keys(args ?? {}).filter((k) => !CHANGE_MEDIUM_ARGS.has(k));
  if (extra.length > 0) throw forbidden(`blockdev-change-medium: argument ${extra.join(', ')} is not allowed`);
  const file = args?.filename;
  if (typeof file !== 'string' || !isAbsolute(file)) throw forbidden('blockdev-change-medium: "filename" must be an absolute path');
  if (args?.format !== undefined && args.format !== 'raw') {
    throw forbidden('blockdev-change-medium: only format "raw" is allowed (other formats can name backing files anywhere)');
  }
  const mode = args?.['read-only-mode'];
  if (mode !== undefined && mode !== 'read-only') {
    throw forbidden(`blockdev-change-medium: media are inserted read-only ("read-only-mode": "${String(mode)}" is not allowed)`);
  }
  const realOf = (p: string): string | undefined => {
    try {
      return (ctx.realpath ?? realpathSync)(resolve(p));
    } catch {
      return undefined; // missing: never inside anything
    }
  };
  const real = realOf(file);
  if (real === undefined) throw new XepaError('ERR_NOT_FOUND', `blockdev-change-medium: ${file} does not exist`);
  const inside = ctx.mediaDirs.some((dir) => {
    const base = realOf(dir);
    return base !== undefined && dirname(real) === base;
  });
  if (!inside) throw forbidden(`blockdev-change-medium: ${file} is not in the agent's media directories (its ISO cache: ${ctx.mediaDirs.join(', ')})`);
  if (!VERIFIED_ISO.test(basename(real))) {
    throw forbidden(`blockdev-change-medium: ${file} is not a verified ISO of the cache (only complete downloads named <sha256>.iso are)`);
  }
  if (!(ctx.isFile ?? isRegularFile)(real)) throw forbidden(`blockdev-change-medium: ${file} is not a regular file`);
  return { ...args, filename: real, format: 'raw', 'read-only-mode': 'read-only' };
}

const isRegularFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
