// Wraps a kernel+initrd release into a small BIOS-bootable GRUB ISO (grub-mkrescue), so the agent — which installs
// ISOs — can boot a kernel+initrd OS in its VM. The ISO is built once per release and kept in the store.
import * as childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { XepaError } from '../../../agent/protocol/index.js';
import type { BlobRef, Store } from '../store/index.js';

// What goes into the ISO.
export interface BootIsoInput {
  kernel: string;
  initrds: string[];
  cmdline: string;
  title: string;
}

// The GRUB platform directory (BIOS). A UEFI build would also need grub-efi-amd64-bin: not done (see docs).
export const GRUB_BIOS_DIR = '/usr/lib/grub/i386-pc';

// GRUB's parser treats quotes, $, ;, braces and spaces specially: quote such arguments.
export function grubQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@+%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// The grub.cfg of a wrapped ISO: serial and screen consoles, no menu delay to speak of, one entry.
export function bootIsoGrubCfg(i: BootIsoInput): string {
  const args = i.cmdline.split(/\s+/).filter(Boolean).map(grubQuote).join(' ');
  const initrds = i.initrds.map((_p, n) => `/boot/initrd${n}`).join(' ');
  return [
    'serial --unit=0 --speed=115200',
    'terminal_input serial console',
    'terminal_output serial console',
    'set timeout=1',
    `menuentry ${grubQuote(i.title)} {`,
    `  linux /boot/vmlinuz ${args}`,
    `  initrd ${initrds}`,
    '}',
    '',
  ].join('\n');
}

function run(spawn: typeof childProcess.spawn, cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

// Builds the ISO in the store's tmp/ and stores it as a blob.
export async function buildBootIso(store: Store, input: BootIsoInput, spawn: typeof childProcess.spawn = childProcess.spawn): Promise<BlobRef> {
  try {
    await fsp.access(join(GRUB_BIOS_DIR, 'modinfo.sh'));
  } catch {
    throw new XepaError('ERR_CONFIG', `cannot build a boot ISO: ${GRUB_BIOS_DIR} is missing (Debian packages grub-pc-bin grub-common xorriso mtools)`);
  }
  const work = join(store.root, 'tmp', `bootiso-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tree = join(work, 'tree');
  await fsp.mkdir(join(tree, 'boot', 'grub'), { recursive: true });
  try {
    // hard links: the blobs are on the same filesystem and never change
    const place = (from: string, to: string): Promise<void> => fsp.link(from, to).catch(() => fsp.copyFile(from, to));
    await place(input.kernel, join(tree, 'boot', 'vmlinuz'));
    for (const [n, p] of input.initrds.entries()) await place(p, join(tree, 'boot', `initrd${n}`));
    await fsp.writeFile(join(tree, 'boot', 'grub', 'grub.cfg'), bootIsoGrubCfg(input));
    const out = join(work, 'boot.iso');
    let r: { code: number; output: string };
    try {
      r = await run(spawn, 'grub-mkrescue', [
        '-d', GRUB_BIOS_DIR, '-o', out, '--fonts=', '--locales=', '--themes=',
        '--install-modules=linux normal iso9660 biosdisk search serial terminal echo',
        tree, '--', '-volid', 'XEPA_BOOT',
      ]);
    } catch (err) {
      throw new XepaError('ERR_CONFIG', `cannot run grub-mkrescue (Debian package grub-common): ${(err as Error).message}`, { cause: err });
    }
    if (r.code !== 0) throw new XepaError('ERR_INTERNAL', `grub-mkrescue failed (exit ${r.code}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`);
    return await store.blobs.ingestFile(out);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
