import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FileChange } from '../protocol/index.js';
import { checkTool, type ToolRunner } from '../fidelity/index.js';
import { findEspLoader } from './efi-reconcile.js';
import { FALLBACK_LOADER, listEfiFiles, type EspPartition, type LoaderChoice } from './esp.js';

// What the removable-media fallback copy did on the ESP.
export interface FallbackOutcome {
  esp: EspPartition;
  loader: LoaderChoice;
  changes: FileChange[];
}

// Files that travel with a loader into \EFI\BOOT: shim loads grubx64.efi (and MokManager) from its own
// directory; GRUB reads a grub.cfg beside it when its prefix is its own directory. fbx64.efi (shim's
// fallback, which writes NVRAM entries) is left behind on purpose: this path is for firmware without them.
const COMPANIONS = ['grubx64.efi', 'mmx64.efi', 'grub.cfg'];

/**
 * Makes the firmware's removable-media path \EFI\BOOT\BOOTX64.EFI start the installed loader (what
 * `grub-install --removable` does), for firmware or providers that ignore or forbid NVRAM entries. The NVRAM
 * is not touched. Files are copied with mtools (no mount); each write is reported with its digest.
 */
export async function copyFallbackLoader(disks: string[], run: ToolRunner, workDir: string): Promise<FallbackOutcome> {
  const { esp, loader } = await findEspLoader(disks, run);
  const img = `${esp.disk}@@${esp.offsetBytes}`;
  const files = await listEfiFiles(esp, run);
  if (loader.path.toLowerCase() === FALLBACK_LOADER.toLowerCase()) return { esp, loader, changes: [] };
  await fs.mkdir(workDir, { recursive: true, mode: 0o700 });
  const dir = loader.path.slice(0, loader.path.lastIndexOf('\\'));
  const plan: { from: string; to: string; why: string }[] = [{ from: loader.path, to: FALLBACK_LOADER, why: `the removable-media path starts ${loader.path} (${loader.why})` }];
  if (/shimx64\.efi$/i.test(loader.path) || /grubx64\.efi$/i.test(loader.path)) {
    for (const c of COMPANIONS) {
      const from = files.find((f) => f.toLowerCase() === `${dir}\\${c}`.toLowerCase());
      if (from && from !== loader.path) plan.push({ from, to: `\\EFI\\BOOT\\${c}`, why: `beside the loader, as ${dir} has it` });
    }
  }
  const toMtools = (p: string): string => `::${p.replaceAll('\\', '/')}`;
  const changes: FileChange[] = [];
  if ((await run('mdir', ['-i', img, '-b', '::/EFI/BOOT'])).code !== 0) checkTool(await run('mmd', ['-i', img, '::/EFI/BOOT']), 'creating \\EFI\\BOOT', 'ERR_EFI_BOOT');
  for (const [n, f] of plan.entries()) {
    const local = join(workDir, `src-${n}`);
    const old = join(workDir, `old-${n}`);
    await fs.rm(local, { force: true });
    await fs.rm(old, { force: true });
    checkTool(await run('mcopy', ['-i', img, '-n', toMtools(f.from), local]), `reading ${f.from} from the ESP`, 'ERR_EFI_BOOT');
    const data = await fs.readFile(local);
    const existing = files.find((x) => x.toLowerCase() === f.to.toLowerCase());
    let previous: Buffer | undefined;
    if (existing) {
      checkTool(await run('mcopy', ['-i', img, '-n', toMtools(existing), old]), `reading ${existing} from the ESP`, 'ERR_EFI_BOOT');
      previous = await fs.readFile(old);
    }
    const base = { path: `ESP ${esp.node}:${f.to}`, mode: '0755', bytes: data.length, sha256: digest(data), why: f.why };
    if (previous && digest(previous) === digest(data)) {
      changes.push({ ...base, action: 'unchanged' });
      continue;
    }
    checkTool(await run('mcopy', ['-i', img, '-o', local, toMtools(f.to)]), `writing ${f.to} on the ESP`, 'ERR_EFI_BOOT');
    changes.push({ ...base, action: previous ? 'replaced' : 'created', ...(previous ? { previousSha256: digest(previous) } : {}) });
  }
  await fs.rm(workDir, { recursive: true, force: true });
  return { esp, loader, changes };
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
