// The move to metal with real tools on a real disk image: sfdisk finds the ESP, mtools reads it without a
// mount, a fake efibootmgr stands in for the server's firmware; partition tables saved and written back by
// sfdisk; answer media built by xorriso and mtools.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { buildAnswerMedium, createToolRunner } from '../../../agent/fidelity/index.js';
import { backupPartitionTable, openRestoreTarget, reconcileEfiBoot, restorePartitionTable, type RestoreTarget } from '../../../agent/finish/index.js';
import { AnswerMedium } from '../../../agent/protocol/index.js';
import { fakeEfibootmgr, type FakeFirmware } from '../../unit/finish/fake-efibootmgr.js';

const MiB = 1024 * 1024;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const sh = (cmd: string, args: string[], input?: string): string => execFileSync(cmd, args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
let work = '';
let disk = '';
// Restores through the agent's own exclusive, size-bounded open.
const restoreOnto = async (fn: (t: RestoreTarget) => Promise<unknown>): Promise<void> => {
  const t = await openRestoreTarget()(disk);
  try {
    expect(t.sizeBytes).toBe(64 * MiB);
    await fn(t);
  } finally {
    await t.close();
  }
};

beforeAll(async () => {
  await ensureDebianPackages(['fdisk', 'mtools', 'xorriso']);
  work = await mkdtemp(join(tmpdir(), 'xepa-finish-'));
  disk = join(work, 'nvme0n1.img');
  await writeFile(disk, '');
  await truncate(disk, 64 * MiB);
  // What a Debian installer leaves: GPT, a 32 MiB ESP with shim and GRUB under \EFI\debian and the fallback, a root.
  sh('sfdisk', ['-q', disk], 'label: gpt\nsize=32MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n');
  const esp = `${disk}@@${MiB}`;
  sh('mformat', ['-i', esp, '-T', String((32 * MiB) / 512), '-v', 'ESP', '::']);
  sh('mmd', ['-i', esp, '::/EFI', '::/EFI/debian', '::/EFI/BOOT']);
  await writeFile(join(work, 'loader'), 'MZ fake loader');
  for (const f of ['::/EFI/debian/shimx64.efi', '::/EFI/debian/grubx64.efi', '::/EFI/BOOT/BOOTX64.EFI']) sh('mcopy', ['-i', esp, join(work, 'loader'), f]);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('finish on a real disk image', () => {
  it('registers the installer\'s shim on the ESP found by its GPT type, first in BootOrder, once', async () => {
    const partuuid = (JSON.parse(sh('sfdisk', ['--json', disk])) as { partitiontable: { partitions: { uuid: string }[] } }).partitiontable.partitions[0]!.uuid.toLowerCase();
    const fw: FakeFirmware = { order: ['0001'], entries: [{ num: '0001', label: 'UEFI PXEv4', path: 'PciRoot(0x0)/Pci(0x1c,0x0)/MAC(b49691000001,0)' }], calls: [] };
    const run = fakeEfibootmgr(fw, createToolRunner(), { [`${disk}1`]: partuuid });
    const first = await reconcileEfiBoot([disk], 'first', run);
    expect(first).toMatchObject({ action: 'created', entry: '0002', loader: { path: '\\EFI\\debian\\shimx64.efi', label: 'debian' }, esp: { number: 1, offsetBytes: MiB, partuuid } });
    expect(fw.order).toEqual(['0002', '0001']);
    expect(fw.calls.find((c) => c.includes('--create-only'))).toEqual(['--create-only', '--disk', disk, '--part', '1', '--label', 'debian', '--loader', '\\EFI\\debian\\shimx64.efi']);
    const again = await reconcileEfiBoot([disk], 'first', run);
    expect(again).toMatchObject({ action: 'kept', entry: '0002' });
    expect(fw.entries).toHaveLength(2);
  });

  it('saves the partition table before an install and writes it back with sfdisk after the installer replaced it', async () => {
    const run = createToolRunner();
    const before = sh('sfdisk', ['--dump', disk]);
    const backup = await backupPartitionTable({ path: disk, sizeBytes: 64 * MiB }, { run });
    expect(backup.sfdisk).toBe(before);
    sh('sfdisk', ['-q', '--wipe', 'never', disk], 'label: dos\ntype=83\n'); // the installer's new table
    expect(sh('sfdisk', ['--dump', disk])).not.toBe(before);
    await restoreOnto((t) => restorePartitionTable(backup, t, 'sfdisk', { run }));
    expect(sh('sfdisk', ['--dump', disk])).toBe(before);
  });

  it('writes the raw first and last MiB back byte for byte', async () => {
    const run = createToolRunner();
    const original = await readFile(disk);
    const backup = await backupPartitionTable({ path: disk, sizeBytes: 64 * MiB }, { run });
    sh('sfdisk', ['-q', '--wipe', 'never', disk], 'label: dos\ntype=83\n');
    await restoreOnto((t) => restorePartitionTable(backup, t, 'raw', { run }));
    const now = await readFile(disk);
    expect(now.subarray(0, MiB).equals(original.subarray(0, MiB))).toBe(true);
    expect(now.subarray(63 * MiB).equals(original.subarray(63 * MiB))).toBe(true);
  });

  it('builds a CIDATA ISO and a FAT stick whose files read back as given', async () => {
    const run = createToolRunner();
    const files = [{ path: 'user-data', content: '#cloud-config\n' }, { path: 'scripts/first.sh', content: 'echo hi\n' }];
    const iso = await buildAnswerMedium(AnswerMedium.parse({ kind: 'cloud-init', files }), work, run, 'xepa-j1');
    const out = join(work, 'iso-out');
    sh('xorriso', ['-osirrox', 'on', '-indev', iso.path, '-extract', '/', out]);
    expect(await readFile(join(out, 'user-data'), 'utf8')).toBe('#cloud-config\n');
    expect(await readFile(join(out, 'meta-data'), 'utf8')).toBe('instance-id: xepa-j1\n');
    expect(await readFile(join(out, 'scripts/first.sh'), 'utf8')).toBe('echo hi\n');
    expect(sh('xorriso', ['-indev', iso.path, '-pvd_info'])).toMatch(/Volume Id\s*:\s*CIDATA/);
    const fat = await buildAnswerMedium(AnswerMedium.parse({ kind: 'kickstart', format: 'vfat', files: [{ path: 'ks.cfg', content: 'text\n' }] }), work, run, 'xepa-j1');
    expect(sh('mtype', ['-i', fat.path, '::/ks.cfg'])).toBe('text\n');
    expect(sh('mlabel', ['-i', fat.path, '-s', '::'])).toMatch(/OEMDRV/);
  });
});
