import { XepaError } from '../protocol/index.js';
import { checkTool, type ToolRunner } from '../fidelity/index.js';
import { entryMatches, orderWith, parseEfibootmgr, type BootState } from './efibootmgr.js';
import { chooseLoader, listEfiFiles, readEsps, type EspPartition, type LoaderChoice } from './esp.js';

// What reconciling did on the server's firmware.
export interface EfiOutcome {
  esp: EspPartition;
  loader: LoaderChoice;
  entry: string;
  action: 'created' | 'kept';
  bootOrder: string[];
  // Entries with the same label that start a partition no longer on the disk (an earlier install).
  stale: string[];
}

/**
 * Makes the server's firmware boot what the installer wrote (the installer's own entries went to the VM's
 * NVRAM): finds the ESP on the target disks by its type, picks its loader, creates the Boot#### entry
 * with efibootmgr unless an identical one exists, and sets BootOrder ('first' or 'keep'). Then reads
 * the firmware back to check. Throws ERR_EFI_BOOT naming what is missing.
 */
export async function reconcileEfiBoot(disks: string[], how: 'first' | 'keep', run: ToolRunner): Promise<EfiOutcome> {
  const found = await findEspLoader(disks, run);
  const { esp, loader } = found;
  const read = async (): Promise<BootState> => parseEfibootmgr(checkTool(await run('efibootmgr', ['-v']), 'efibootmgr -v', 'ERR_EFI_BOOT').stdout);
  const before = await read();
  let entry = before.entries.find((e) => entryMatches(e, esp.partuuid, loader.path));
  let action: EfiOutcome['action'] = 'kept';
  if (!entry) {
    const args = ['--create-only', '--disk', esp.disk, '--part', String(esp.number), '--label', loader.label, '--loader', loader.path];
    checkTool(await run('efibootmgr', args), `efibootmgr creating the "${loader.label}" entry`, 'ERR_EFI_BOOT');
    entry = (await read()).entries.find((e) => entryMatches(e, esp.partuuid, loader.path));
    if (!entry) throw new XepaError('ERR_EFI_BOOT', `efibootmgr reported success but no entry for ${loader.path} appeared`);
    action = 'created';
  }
  const want = orderWith(before.order, entry.num, how);
  if (want.join(',') !== before.order.join(',')) {
    checkTool(await run('efibootmgr', ['--bootorder', want.join(',')]), 'efibootmgr setting BootOrder', 'ERR_EFI_BOOT');
  }
  const after = await read();
  if (!after.entries.some((e) => e.num === entry!.num)) throw new XepaError('ERR_EFI_BOOT', `Boot${entry.num} vanished after setting BootOrder`);
  if (how === 'first' && after.order[0] !== entry.num) {
    throw new XepaError('ERR_EFI_BOOT', `the firmware kept BootOrder ${after.order.join(',')}: Boot${entry.num} is not first`);
  }
  const stale = after.entries
    .filter((e) => e.num !== entry!.num && e.label === loader.label && esp.partuuid !== undefined && /HD\(/i.test(e.path) && !e.path.toLowerCase().includes(esp.partuuid))
    .map((e) => `Boot${e.num}`);
  return { esp, loader, entry: entry.num, action, bootOrder: after.order, stale };
}

// The first ESP on the target disks that holds a loader, and that loader.
export async function findEspLoader(disks: string[], run: ToolRunner): Promise<{ esp: EspPartition; loader: LoaderChoice }> {
  const seen: string[] = [];
  for (const disk of disks) {
    for (const esp of await readEsps(disk, run)) {
      const files = await listEfiFiles(esp, run);
      seen.push(`${esp.node} (${files.length} file(s) under \\EFI)`);
      try {
        return { esp, loader: chooseLoader(files) };
      } catch {
        // an ESP without a loader: try the next one
      }
    }
  }
  throw new XepaError('ERR_EFI_BOOT', seen.length === 0
    ? `no EFI System Partition on ${disks.join(', ')}: the installed system is not UEFI-bootable`
    : `no UEFI loader on the ESPs found: ${seen.join('; ')}`);
}
