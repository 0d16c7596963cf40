import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileChange, FinishParams, FinishReport, PartitionBackup } from '../../../agent/protocol/index.js';
import { BOOT_ENTRY_POLICIES, NETWORK_MODES, PartitionBackup as PartitionBackupSchema, XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir } from '../../auth/index.js';
import { AGENT_OPTIONS, DEFAULT_AGENT_PORT, parse } from '../args.js';
import { line, table, type Output } from '../output.js';
import { openSession, type Session } from '../session.js';
import { checkFirstBoot, firstBootTarget } from './finish-check.js';

// The usage text of `xepa finish`.
export const FINISH_USAGE = `usage: xepa finish HOST JOB [--network rescue|dhcp|keep] [--boot-entry nvram|fallback|none]
         [--boot-order first|keep] [--reboot [--check-port PORT] [--check-host ADDR] [--check-timeout SECONDS]
         [--check-tcp-banner TEXT] | --no-check] [--check-banner TEXT [--banner-timeout SECONDS]]
         [--backup-dir DIR] [--fingerprint FP] [--key-dir DIR] [--json]
       xepa finish HOST JOB --restore-partition-table DISK [--mode sfdisk|raw] [--backup-dir DIR]
Stops the job's VM, checks the disks are back, saves the partition-table backups here, opens the installed
system from the rescue system and writes its network for the server's NIC, matched by MAC (--network rescue,
the default: the rescue system's live addresses, gateway and DNS; dhcp; keep: untouched), makes the firmware
start it (UEFI --boot-entry nvram, the default: an efibootmgr entry; fallback: \\EFI\\BOOT\\BOOTX64.EFI, NVRAM
untouched; none. BIOS: boot code checked on every disk), and with --reboot (never by default) reboots it, then
waits until the rescue system is gone and the server answers on its own address (port 22 with an SSH banner
unless --check-port; --check-timeout, default 900 s; --no-check), and reports what it saw: answered after N s,
or refused, timed out, another service, or the agent still up.
Every file changed in the installed system is listed with its SHA-256. --check-banner boots the installed disks
once in a VM first and waits for TEXT on a serial port.`;

// The finish request from the command line. Pure.
export function finishParamsOf(job: string, v: Record<string, string | boolean | undefined>): FinishParams {
  const p: FinishParams = { job, reboot: v.reboot === true };
  if (typeof v.efi === 'string') p.efi = enumOf(v.efi, ['auto', 'skip'] as const, '--efi');
  if (typeof v['boot-order'] === 'string') p.bootOrder = enumOf(v['boot-order'], ['first', 'keep'] as const, '--boot-order');
  if (typeof v['check-banner'] === 'string') p.banner = v['check-banner'];
  if (typeof v['banner-timeout'] === 'string') p.bannerTimeoutMs = secondsOf(v['banner-timeout'], '--banner-timeout') * 1000;
  if (typeof v.network === 'string') p.network = enumOf(v.network, NETWORK_MODES, '--network');
  if (typeof v['boot-entry'] === 'string') p.bootEntry = enumOf(v['boot-entry'], BOOT_ENTRY_POLICIES, '--boot-entry');
  for (const flag of ['check-tcp', 'check-port', 'check-host'] as const) {
    if (v[flag] !== undefined && !p.reboot) throw new XepaError('ERR_BAD_REQUEST', `--${flag} checks the server after its reboot: add --reboot`);
  }
  return p;
}

// The finish report as a person reads it: one line per step, then every file changed with its digest.
export function renderFinishReport(r: FinishReport): string {
  const rows = r.steps.map((s) => [s.step, s.status.toUpperCase(), s.message]);
  const changes = r.steps.flatMap((s) => (Array.isArray(s.detail?.changes) ? (s.detail.changes as FileChange[]) : []));
  const files = changes.map((c) => `  ${c.action.padEnd(9)} ${c.path} (${c.mode}, ${c.bytes} bytes, sha256 ${c.sha256}${c.previousSha256 ? `, was ${c.previousSha256}` : ''}): ${c.why}`);
  return [
    `finish ${r.job}: ${r.ok ? 'OK' : 'FAILED'}${r.rebooting ? ' (the server is rebooting)' : ''}`,
    table([['STEP', 'RESULT', 'WHAT'], ...rows]),
    ...(files.length ? ['changed in the installed system:', ...files] : []),
  ].join('\n');
}

// `xepa finish`: the move to metal, with a clear report; or restoring a saved partition table.
export async function finishCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...AGENT_OPTIONS,
    reboot: { type: 'boolean', default: false },
    efi: { type: 'string' },
    'boot-order': { type: 'string' },
    'check-banner': { type: 'string' },
    'banner-timeout': { type: 'string' },
    'check-tcp': { type: 'string' }, // older name of --check-port
    'check-port': { type: 'string' },
    'check-host': { type: 'string' },
    'check-tcp-banner': { type: 'string' },
    'check-timeout': { type: 'string' },
    'tcp-timeout': { type: 'string' }, // older name of --check-timeout
    'no-check': { type: 'boolean', default: false },
    network: { type: 'string' },
    'boot-entry': { type: 'string' },
    'backup-dir': { type: 'string' },
    'restore-partition-table': { type: 'string' },
    mode: { type: 'string' },
  });
  if (values.help) return line(o.out, FINISH_USAGE), 0;
  const [host, job] = positionals;
  if (!host || !job) return line(o.err, FINISH_USAGE), 2;
  const params = finishParamsOf(job, values);
  const session = await openSession(host, values, (s) => line(o.err, s));
  try {
    const dir = values['backup-dir'] ?? join(values['key-dir'] ?? defaultControllerDir(), 'backups', session.agentId, job);
    const saved = await saveBackups(session, job, dir);
    if (!values.json) line(o.err, saved.length ? `partition tables saved in ${dir}: ${saved.map((b) => b.disk).join(', ')}` : 'the job saved no partition tables');
    const disk = values['restore-partition-table'];
    if (disk !== undefined) {
      const mode = enumOf(values.mode ?? 'sfdisk', ['sfdisk', 'raw'] as const, '--mode');
      const backup = saved.find((b) => b.disk === disk || b.serial === disk);
      const r = await session.client.call('disk.restore-partition-table', { job, disk, mode, ...(backup ? { backup } : {}) });
      line(o.out, values.json ? JSON.stringify(r) : r.message);
      return 0;
    }
    const report = await session.client.call('finish', params, { timeoutMs: (params.bannerTimeoutMs ?? 300_000) + 180_000 });
    if (report.rebooting && !values['no-check']) {
      session.close();
      const url = new URL(session.url.replace(/^wss:/, 'https:'));
      const target = firstBootTarget(report, {
        agentHost: url.hostname.replace(/^\[|\]$/g, ''),
        ...(values['check-host'] ? { host: values['check-host'] } : {}),
        ...((values['check-port'] ?? values['check-tcp']) ? { port: Number(values['check-port'] ?? values['check-tcp']) } : {}),
        ...(values['check-tcp-banner'] ? { banner: values['check-tcp-banner'] } : {}),
      });
      if (!values.json) line(o.err, `waiting for ${target.host}:${target.port} (${target.why})`);
      const tcp = await checkFirstBoot({
        host: target.host,
        agentPort: Number(url.port || DEFAULT_AGENT_PORT),
        port: target.port,
        ...(target.banner ? { banner: target.banner } : {}),
        timeoutMs: secondsOf(values['check-timeout'] ?? values['tcp-timeout'] ?? '900', '--check-timeout') * 1000,
      });
      report.steps.push({ step: 'check', status: tcp.ok ? 'ok' : 'fail', message: tcp.message, detail: { host: target.host, port: target.port, why: target.why, outcome: tcp.outcome, ...tcp.seen } });
      report.ok &&= tcp.ok;
    }
    line(o.out, values.json ? JSON.stringify(report) : renderFinishReport(report));
    return report.ok ? 0 : 1;
  } finally {
    session.close();
  }
}

// Fetches every backup the job saved and keeps it under dir (one JSON file per disk); returns them.
async function saveBackups(session: Session, job: string, dir: string): Promise<PartitionBackup[]> {
  const first = await session.client.call('job.backup', { job, index: 0 });
  const all: PartitionBackup[] = [];
  for (let i = 0; i < first.count; i++) {
    const b = i === 0 ? first.backup : (await session.client.call('job.backup', { job, index: i })).backup;
    if (b) all.push(b);
  }
  if (all.length === 0) return readSaved(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [i, b] of all.entries()) await writeFile(join(dir, `${i}-${b.disk.replaceAll('/', '_')}.json`), JSON.stringify(b, null, 1), { mode: 0o600 });
  return all;
}

// Backups saved by an earlier finish (the agent may have been restarted since).
async function readSaved(dir: string): Promise<PartitionBackup[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: PartitionBackup[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) out.push(PartitionBackupSchema.parse(JSON.parse(await readFile(join(dir, n), 'utf8'))));
  return out;
}

function enumOf<const T extends string>(v: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(v)) throw new XepaError('ERR_BAD_REQUEST', `${flag} ${v}: use ${allowed.join(' or ')}`);
  return v as T;
}

function secondsOf(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new XepaError('ERR_BAD_REQUEST', `${flag} ${v}: a number of seconds`);
  return n;
}
