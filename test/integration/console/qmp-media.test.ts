import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkQmpCommand } from '../../../agent/console/index.js';
import { QmpClient } from '../../../agent/qmp/index.js';
import { codeOf } from '../../support/error-code.js';

// The media policy in front of a real QEMU (q35, paused, an ide-cd like every XEPA VM's cdrom0): what the
// policy lets through is inserted read-only, and what it refuses never reaches QEMU — which would have done it.
const dir = mkdtempSync(join(tmpdir(), 'xepa-qmp-media-it-'));
const cache = join(dir, 'isos');
let qemu: ChildProcess;
let qmp: QmpClient;

// A file of the cache under its real digest, as the fetcher leaves a verified ISO.
function cached(bytes: Buffer): string {
  const p = join(cache, `${createHash('sha256').update(bytes).digest('hex')}.iso`);
  writeFileSync(p, bytes, { mode: 0o600 });
  return p;
}
const viaPolicy = (args: Record<string, unknown>) => checkQmpCommand('blockdev-change-medium', args, { jobDir: dir, mediaDirs: [cache] });
interface BlockInfo { qdev?: string; inserted?: { file: string; ro: boolean } }
const cdrom = async (): Promise<BlockInfo['inserted']> => ((await qmp.execute('query-block')) as BlockInfo[]).find((b) => b.qdev === 'cdrom0')?.inserted;

beforeAll(async () => {
  mkdirSync(cache, { mode: 0o700 });
  const first = cached(Buffer.alloc(64 * 1024, 1));
  const sock = join(dir, 'qmp.sock');
  qemu = spawn('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-S',
    '-drive', `if=none,id=cd0,file=${first},format=raw,media=cdrom,readonly=on`, '-device', 'ide-cd,id=cdrom0,drive=cd0',
    '-qmp', `unix:${sock},server=on,wait=off`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 20_000;
  while (!statSync(sock, { throwIfNoEntry: false })?.isSocket()) {
    if (Date.now() > deadline) throw new Error('QEMU did not open its QMP socket within 20 s');
    await new Promise((r) => setTimeout(r, 50)); // QEMU offers no event before its socket exists
  }
  qmp = await QmpClient.connect(sock, { log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await qmp?.close();
  qemu?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('media changes through the policy, on real QEMU', () => {
  it('QEMU itself opens a medium writable when asked (what the policy must stop)', async () => {
    const scratch = cached(Buffer.alloc(64 * 1024, 2));
    await qmp.execute('blockdev-change-medium', { id: 'cdrom0', filename: scratch, format: 'raw', 'read-only-mode': 'read-write' });
    expect(await cdrom()).toMatchObject({ file: scratch, ro: false });
  });

  it('inserts a verified ISO read-only even after a writable medium (no mode retained)', async () => {
    const iso = cached(Buffer.alloc(64 * 1024, 3));
    await qmp.execute('blockdev-change-medium', viaPolicy({ id: 'cdrom0', filename: iso }));
    expect(await cdrom()).toMatchObject({ file: iso, ro: true });
  });

  it('refuses a writable medium and host files before QEMU sees them: the medium stays as it was', async () => {
    const before = await cdrom();
    const iso = cached(Buffer.alloc(64 * 1024, 4));
    expect(codeOf(() => viaPolicy({ id: 'cdrom0', filename: iso, 'read-only-mode': 'read-write' }))).toBe('ERR_FORBIDDEN');
    expect(codeOf(() => viaPolicy({ id: 'cdrom0', filename: '/etc/shadow' }))).toBe('ERR_FORBIDDEN');
    writeFileSync(`${iso}.part`, 'a download in progress');
    expect(codeOf(() => viaPolicy({ id: 'cdrom0', filename: `${iso}.part` }))).toBe('ERR_FORBIDDEN');
    expect(await cdrom()).toEqual(before);
  });
});
