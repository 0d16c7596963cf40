import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FinishParams, FinishReport, PartitionBackup } from '../../../agent/protocol/index.js';
import { PartitionBackup as PartitionBackupSchema, XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir } from '../../auth/index.js';
import { AGENT_OPTIONS, DEFAULT_AGENT_PORT, parse } from '../args.js';
import { line, table, type Output } from '../output.js';
import { openSession, type Session } from '../session.js';
import { checkFirstBoot } from './finish-check.js';

// The usage text of `xepa finish`.
export const FINISH_USAGE = `usage: xepa finish HOST JOB [--reboot] [--efi auto|skip] [--boot-order first|keep]
         [--check-banner TEXT [--banner-timeout SECONDS]] [--check-tcp PORT [--check-tcp-banner TEXT]
         [--tcp-timeout SECONDS]] [--backup-dir DIR] [--fingerprint FP] [--key-dir DIR] [--json]
       xepa finish HOST JOB --restore-partition-table DISK [--mode sfdisk|raw] [--backup-dir DIR]
Stops the job's VM, checks the disks are back, saves the partition-table backups here, makes the
server's UEFI firmware boot the installed system, and with --reboot (never by default) reboots it.
--check-banner boots the installed disks once in a VM first and waits for TEXT on a serial port;
--check-tcp waits after the reboot until HOST:PORT answers (e.g. 22 --check-tcp-banner SSH-).`;

// The finish request from the command line. Pure.
export function finishParamsOf(job: string, v: Record<string, string | boolean | undefined>): FinishParams {
  const p: FinishParams = { job, reboot: v.reboot === true };
  if (typeof v.efi === 'string') p.efi = enumOf(v.efi, ['auto', 'skip'] as const, '--efi');
  if (typeof v['boot-order'] === 'string') p.bootOrder = enumOf(v['boot-order'], ['first', 'keep'] as const, '--boot-order');
  if (typeof v['check-banner'] === 'string') p.banner = v['check-banner'];
  if (typeof v['banner-timeout'] === 'string') p.bannerTimeoutMs = secondsOf(v['banner-timeout'], '--banner-timeout') * 1000;
  if (v['check-tcp'] !== undefined && !p.reboot) throw new XepaError('ERR_BAD_REQUEST', '--check-tcp checks the server after its reboot: add --reboot');
  return p;
}

// The finish report as a person reads it.
export function renderFinishReport(r: FinishReport): string {
  const rows = r.steps.map((s) => [s.step, s.status.toUpperCase(), s.message]);
  return [`finish ${r.job}: ${r.ok ? 'OK' : 'FAILED'}${r.rebooting ? ' (the server is rebooting)' : ''}`, table([['STEP', 'RESULT', 'WHAT'], ...rows])].join('\n');
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
    'check-tcp': { type: 'string' },
    'check-tcp-banner': { type: 'string' },
    'tcp-timeout': { type: 'string' },
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
    const tcpPort = values['check-tcp'];
    let tcp: { ok: boolean; message: string } | undefined;
    if (tcpPort !== undefined && report.rebooting) {
      session.close();
      const url = new URL(session.url.replace(/^wss:/, 'https:'));
      tcp = await checkFirstBoot({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        agentPort: Number(url.port || DEFAULT_AGENT_PORT),
        port: Number(tcpPort),
        ...(values['check-tcp-banner'] ? { banner: values['check-tcp-banner'] } : {}),
        timeoutMs: secondsOf(values['tcp-timeout'] ?? '900', '--tcp-timeout') * 1000,
      });
      report.steps.push({ step: 'check', status: tcp.ok ? 'ok' : 'fail', message: tcp.message });
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

function enumOf<T extends string>(v: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(v)) throw new XepaError('ERR_BAD_REQUEST', `${flag} ${v}: use ${allowed.join(' or ')}`);
  return v as T;
}

function secondsOf(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new XepaError('ERR_BAD_REQUEST', `${flag} ${v}: a number of seconds`);
  return n;
}
