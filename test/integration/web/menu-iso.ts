import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// The first menu entry's title: GRUB shows it on the screen and on the serial port.
export const MENU_TITLE = 'XEPA web console test';

// A GRUB menu that waits forever (timeout -1) on the VGA screen and on COM1: a guest whose screen is known,
// stays still, and changes deterministically when a key is pressed (Down moves the highlight).
const GRUB_CFG = `serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=-1
menuentry "${MENU_TITLE}: first entry" { echo first }
menuentry "${MENU_TITLE}: second entry" { echo second }
menuentry "${MENU_TITLE}: third entry" { echo third }
`;

/** The built ISO and its digest (what an install request needs). */
export interface MenuIso {
  path: string;
  sha256: string;
}

// Builds the menu ISO with grub-mkrescue (Debian grub-pc-bin, xorriso: in the demo's host packages) into dir.
export async function buildMenuIso(dir: string): Promise<MenuIso> {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'boot', 'grub'), { recursive: true });
  await writeFile(join(tree, 'boot', 'grub', 'grub.cfg'), GRUB_CFG);
  const path = join(dir, 'menu.iso');
  const args = ['-d', '/usr/lib/grub/i386-pc', '-o', path, '--fonts=', '--locales=', '--themes=',
    '--install-modules=normal iso9660 biosdisk serial terminal echo', tree, '--', '-volid', 'XEPA_MENU'];
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const p = spawn('grub-mkrescue', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
    p.on('error', reject);
    p.on('close', resolve);
  });
  if (code !== 0) throw new Error(`grub-mkrescue failed (${code}): ${stderr.join('').slice(-500)}`);
  return { path, sha256: createHash('sha256').update(await readFile(path)).digest('hex') };
}
