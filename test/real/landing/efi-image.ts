// A landing image made to boot by UEFI the way Debian's installer leaves it on a Secure Boot capable system:
// shim and GRUB signed by Debian (from the shim-signed, shim-helpers-amd64-signed and grub-efi-amd64-signed
// packages, downloaded once from Debian's mirror into ~/.cache/xepa/landing/efi-debs) in \EFI\debian with the
// grub.cfg stub grub-install writes there (search the root by UUID, then its /boot/grub/grub.cfg), and no
// \EFI\BOOT: the installer VM's NVRAM held the entry, which the metal's empty NVRAM does not have.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LANDING_CACHE, ROOT_UUID, type LandingImage } from './debian-image.js';

const run = promisify(execFile);
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const EFI_DEBS = join(LANDING_CACHE, 'efi-debs');
const PACKAGES = ['shim-signed', 'shim-helpers-amd64-signed', 'grub-efi-amd64-signed'];

// The signed loaders as files: shimx64.efi, mmx64.efi, fbx64.efi, grubx64.efi (cached after the first run).
export async function signedLoaders(): Promise<Record<string, string>> {
  const dir = join(EFI_DEBS, 'extracted');
  const want: Record<string, string> = {
    'shimx64.efi': join(dir, 'usr/lib/shim/shimx64.efi.signed'),
    'mmx64.efi': join(dir, 'usr/lib/shim/mmx64.efi.signed'),
    'fbx64.efi': join(dir, 'usr/lib/shim/fbx64.efi.signed'),
    'grubx64.efi': join(dir, 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed'),
  };
  if (Object.values(want).every((p) => existsSync(p))) return want;
  await mkdir(EFI_DEBS, { recursive: true });
  const have = (await readdir(EFI_DEBS)).filter((n) => n.endsWith('.deb'));
  if (!PACKAGES.every((p) => have.some((n) => n.startsWith(`${p}_`)))) await run('apt-get', ['download', ...PACKAGES], { cwd: EFI_DEBS });
  await rm(dir, { recursive: true, force: true });
  for (const deb of (await readdir(EFI_DEBS)).filter((n) => n.endsWith('.deb'))) await run('dpkg-deb', ['-x', join(EFI_DEBS, deb), dir]);
  const missing = Object.values(want).filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`the signed loaders are not in the packages: ${missing.join(', ')}`);
  return want;
}

/**
 * Makes `disk` (a private copy of a landing image) boot by UEFI as Debian installs it: the ESP gets
 * \EFI\debian\{shimx64,grubx64,mmx64,fbx64}.efi, BOOTX64.CSV and grub.cfg; the root gets /boot/grub/grub.cfg
 * with one entry for the image's kernel (serial console). Returns the UEFI paths written.
 */
export async function makeUefiBootable(img: LandingImage, disk: string): Promise<string[]> {
  const loaders = await signedLoaders();
  const esp = `${disk}@@${img.disk.esp.offset}`;
  const work = await mkdtemp(join(tmpdir(), 'xepa-landing-efi-'));
  try {
    await run('mmd', ['-i', esp, '::/EFI', '::/EFI/debian'], { env });
    const files: Record<string, string> = { ...loaders };
    const stub = join(work, 'grub.cfg');
    await writeFile(stub, `search.fs_uuid ${ROOT_UUID} root\nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n`);
    files['grub.cfg'] = stub;
    const csv = join(work, 'BOOTX64.CSV');
    await writeFile(csv, Buffer.from('\ufeffshimx64.efi,debian,,This is the boot entry for debian\n', 'utf16le'));
    files['BOOTX64.CSV'] = csv;
    for (const [name, from] of Object.entries(files)) await run('mcopy', ['-i', esp, '-o', from, `::/EFI/debian/${name}`], { env });
    const m = join(work, 'root');
    await mkdir(m);
    await run('mount', ['-t', 'ext4', '-o', `loop,offset=${img.disk.root.offset},sizelimit=${img.disk.root.size}`, disk, m]);
    try {
      const boot = await readdir(join(m, 'boot'));
      const kernel = boot.find((n) => n.startsWith('vmlinuz-'));
      const initrd = boot.find((n) => n.startsWith('initrd.img-'));
      if (!kernel || !initrd) throw new Error(`no kernel or initramfs in the image's /boot (${boot.join(', ')})`);
      await mkdir(join(m, 'boot/grub'), { recursive: true });
      await writeFile(join(m, 'boot/grub/grub.cfg'), `set timeout=0
menuentry 'Debian GNU/Linux' {
  search --no-floppy --fs-uuid --set=root ${ROOT_UUID}
  echo 'XEPA-GRUB: loading ${kernel}'
  linux /boot/${kernel} root=UUID=${ROOT_UUID} ro console=ttyS0 panic=-1
  initrd /boot/${initrd}
}
`);
    } finally {
      await run('umount', [m]);
    }
    return Object.keys(files).map((n) => `\\EFI\\debian\\${n}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
