import type { BootEntryPolicy, FinishStep } from '../protocol/index.js';
import { toWireError } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { checkBiosBoot, type BiosBootDisk } from './bios-boot.js';
import { copyFallbackLoader } from './efi-fallback.js';
import { reconcileEfiBoot } from './efi-reconcile.js';

type StepOut = Omit<FinishStep, 'step'>;

/**
 * The firmware side of the move to metal on a UEFI server, per the provider's policy: an NVRAM entry with
 * efibootmgr, the removable-media path \EFI\BOOT\BOOTX64.EFI (NVRAM untouched), or nothing.
 */
export async function uefiBootStep(o: { disks: string[]; policy: BootEntryPolicy; bootOrder: 'first' | 'keep'; workDir: string }, run: ToolRunner): Promise<StepOut> {
  if (o.policy === 'none') return { status: 'skipped', message: 'no boot entry made and the ESP left alone (--boot-entry none): the firmware must find the system by itself' };
  try {
    if (o.policy === 'fallback') {
      const r = await copyFallbackLoader(o.disks, run, o.workDir);
      const written = r.changes.filter((c) => c.action !== 'unchanged');
      const message = r.changes.length === 0
        ? `the installed loader already is \\EFI\\BOOT\\BOOTX64.EFI on ${r.esp.node}; NVRAM untouched`
        : `${r.loader.path} copied to the removable-media path on ${r.esp.node} (${r.changes.map((c) => `${c.path.split(':').pop()} ${c.action}`).join(', ')}); NVRAM untouched`;
      return { status: 'ok', message: written.length || r.changes.length === 0 ? message : `${message} (already in place)`, detail: { policy: 'fallback', loader: r.loader.path, esp: r.esp.node, changes: r.changes } };
    }
    const r = await reconcileEfiBoot(o.disks, o.bootOrder, run);
    const msg = `Boot${r.entry} "${r.loader.label}" ${r.action} for ${r.loader.path} on ${r.esp.node} (${r.loader.why}); BootOrder ${r.bootOrder.join(',')}`;
    return {
      status: r.stale.length ? 'warn' : 'ok',
      message: r.stale.length ? `${msg}; older entries with the same label: ${r.stale.join(', ')}` : msg,
      detail: { policy: 'nvram', entry: r.entry, action: r.action, loader: r.loader.path, esp: r.esp.node, partuuid: r.esp.partuuid, bootOrder: r.bootOrder, stale: r.stale },
    };
  } catch (err) {
    const w = toWireError(err);
    return { status: 'fail', message: w.message, detail: { code: w.code } };
  }
}

/**
 * A BIOS server starts the MBR of the disk first in its boot order: every disk the job installed onto is
 * checked for boot code (and GRUB's core image). Fails when none has any; warns when some lack it.
 */
export async function biosBootStep(disks: string[], run: ToolRunner, read?: (disk: string, offset: number, length: number) => Promise<Buffer>): Promise<StepOut> {
  let found: BiosBootDisk[];
  try {
    found = await checkBiosBoot(disks, run, read);
  } catch (err) {
    const w = toWireError(err);
    return { status: 'fail', message: `reading the boot sectors failed: ${w.message}`, detail: { code: w.code } };
  }
  const good = found.filter((d) => d.ok);
  const status = good.length === 0 ? 'fail' : good.length < found.length ? 'warn' : 'ok';
  const tail = status === 'fail' ? ': the server would not boot the installed system' : status === 'warn' ? `; the server boots only if its BIOS starts ${good.map((d) => d.disk).join(' or ')}` : '';
  return { status, message: `${found.map((d) => d.message).join('; ')}${tail}`, detail: { disks: found } };
}
