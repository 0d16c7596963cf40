// The El Torito reader and the firmware check against real ISOs: GRUB's rescue CD from Debian's grub-rescue-pc
// (BIOS only) and ISOs grub-mkrescue makes (hybrid BIOS+UEFI, UEFI only), each compared with what xorriso reports
// about the same file (`-report_el_torito plain`), an independent reader of the catalog.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { cachedIsoFirmwareCheck, describeBootCatalog, readIsoBootCatalog } from '../../../agent/iso/index.js';

const run = promisify(execFile);
const RESCUE_ISO = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso';
let work = '';

beforeAll(async () => {
  await ensureDebianPackages(['grub-rescue-pc', 'grub-common', 'grub-pc-bin', 'grub-efi-amd64-bin', 'xorriso', 'mtools']);
  work = await mkdtemp(join(tmpdir(), 'xepa-eltorito-'));
  await mkdir(join(work, 'tree'));
  await writeFile(join(work, 'tree', 'hello.txt'), 'xepa\n');
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// grub-mkrescue for the platforms given (none: every installed one, i386-pc and x86_64-efi here).
async function mkrescue(name: string, platformDir?: string): Promise<string> {
  const out = join(work, `${name}.iso`);
  await run('grub-mkrescue', [...(platformDir ? ['-d', platformDir] : []), '-o', out, '--fonts=', '--locales=', '--themes=', join(work, 'tree')]);
  return out;
}

// xorriso's view of the catalog: its sector and, per boot image, platform, bootable flag and first sector.
async function xorrisoView(path: string): Promise<{ catalogSector: number; images: [string, boolean, number][] }> {
  const { stdout } = await run('xorriso', ['-indev', path, '-report_el_torito', 'plain']);
  const catalog = /^El Torito catalog\s*:\s*(\d+)/m.exec(stdout);
  const images = [...stdout.matchAll(/^El Torito boot img :\s+\d+\s+(\S+)\s+([yn])\s+\S+\s+\S+\s+\S+\s+\d+\s+(\d+)\s*$/gm)].map(
    (m) => [m[1] === 'BIOS' ? 'bios' : m[1] === 'UEFI' ? 'uefi' : 'other', m[2] === 'y', Number(m[3])] as [string, boolean, number],
  );
  return { catalogSector: Number(catalog?.[1]), images };
}

async function ours(path: string): Promise<{ catalogSector: number; images: [string, boolean, number][] }> {
  const cat = await readIsoBootCatalog(path);
  return { catalogSector: cat.catalogSector ?? -1, images: cat.entries.map((e) => [e.platform, e.bootable, e.loadRba]) };
}

// The plan's check over an ISO directory holding `path` under its digest, as the agent keeps verified ISOs.
async function planCheck(path: string, name: string) {
  const dir = join(work, `isos-${name}`);
  await mkdir(dir, { recursive: true });
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  await copyFile(path, join(dir, `${sha}.iso`));
  const check = cachedIsoFirmwareCheck(dir);
  return (firmware: 'bios' | 'uefi') => check(sha, firmware);
}

describe('El Torito catalogs of real ISOs', () => {
  it('GRUB\'s rescue CD (grub-rescue-pc) is BIOS only, as xorriso reports it, and the plan refuses UEFI for it', async () => {
    const seen = await ours(RESCUE_ISO);
    expect(seen).toEqual(await xorrisoView(RESCUE_ISO));
    expect(seen.images.map((i) => i[0])).toEqual(['bios']);
    const check = await planCheck(RESCUE_ISO, 'rescue');
    expect(await check('bios')).toBe('BIOS only');
    await expect(check('uefi')).rejects.toMatchObject({ code: 'ERR_ISO_FIRMWARE', message: 'this ISO has no UEFI boot entry (El Torito: BIOS only); use --firmware bios' });
  });

  it('a hybrid grub-mkrescue ISO has a BIOS and a UEFI entry, and both firmwares pass', async () => {
    const iso = await mkrescue('hybrid');
    const seen = await ours(iso);
    expect(seen).toEqual(await xorrisoView(iso));
    expect(seen.images.map((i) => i[0])).toEqual(['bios', 'uefi']);
    const check = await planCheck(iso, 'hybrid');
    expect([await check('bios'), await check('uefi')]).toEqual(['BIOS and UEFI', 'BIOS and UEFI']);
  });

  it('a UEFI-only grub-mkrescue ISO is refused under BIOS', async () => {
    const iso = await mkrescue('uefi', '/usr/lib/grub/x86_64-efi');
    const seen = await ours(iso);
    expect(seen).toEqual(await xorrisoView(iso));
    expect(describeBootCatalog(await readIsoBootCatalog(iso))).toBe('UEFI only');
    const check = await planCheck(iso, 'uefi');
    await expect(check('bios')).rejects.toMatchObject({ code: 'ERR_ISO_FIRMWARE', message: 'this ISO has no BIOS boot entry (El Torito: UEFI only); use --firmware uefi' });
  });
});
