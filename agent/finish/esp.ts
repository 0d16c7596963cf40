import { XepaError } from '../protocol/index.js';
import { checkTool, type ToolRunner } from '../fidelity/index.js';

// The EFI System Partition's GPT type GUID (UEFI spec §5.3.3) and its MBR type byte.
export const ESP_GPT_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const ESP_MBR_TYPE = 'ef';

// An ESP found on a disk: where it starts (for mtools' image@@offset), its number and PARTUUID.
export interface EspPartition {
  disk: string;
  node: string;
  number: number;
  offsetBytes: number;
  sizeBytes: number;
  partuuid?: string;
}

interface SfdiskJson {
  partitiontable?: {
    label?: string;
    sectorsize?: number;
    partitions?: { node: string; start: number; size: number; type: string; uuid?: string }[];
  };
}

// The ESPs in `sfdisk --json` output (GPT type or MBR type 0xef), in partition order. Pure.
export function findEsps(disk: string, sfdiskJson: string): EspPartition[] {
  const t = (JSON.parse(sfdiskJson) as SfdiskJson).partitiontable;
  const sector = t?.sectorsize ?? 512;
  return (t?.partitions ?? [])
    .filter((p) => p.type.toUpperCase() === ESP_GPT_TYPE || p.type.toLowerCase() === ESP_MBR_TYPE)
    .map((p) => ({
      disk,
      node: p.node,
      number: Number(/(\d+)$/.exec(p.node)?.[1] ?? 0),
      offsetBytes: p.start * sector,
      sizeBytes: p.size * sector,
      ...(p.uuid ? { partuuid: p.uuid.toLowerCase() } : {}),
    }));
}

// Reads a disk's partition table and returns its ESPs; [] when it has no table.
export async function readEsps(disk: string, run: ToolRunner): Promise<EspPartition[]> {
  const r = await run('sfdisk', ['--json', disk]);
  if (r.code !== 0) return [];
  return findEsps(disk, r.stdout);
}

// Every file under \EFI on the ESP, as UEFI paths (\EFI\debian\shimx64.efi), read with mtools: no mount.
export async function listEfiFiles(esp: EspPartition, run: ToolRunner): Promise<string[]> {
  const r = await run('mdir', ['-i', `${esp.disk}@@${esp.offsetBytes}`, '-/', '-b', '::/EFI']);
  if (r.code !== 0 && /not found/i.test(r.stderr + r.stdout)) return []; // an ESP without \EFI
  checkTool(r, `reading the ESP ${esp.node}`, 'ERR_EFI_BOOT');
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('::/') && !l.endsWith('/')).map((l) => l.slice(2).replaceAll('/', '\\'));
}

// The loader to boot and the entry label to give it.
export interface LoaderChoice {
  path: string;
  label: string;
  why: string;
}

// The removable-media fallback every UEFI firmware tries (UEFI spec §3.5.1.1).
export const FALLBACK_LOADER = '\\EFI\\BOOT\\BOOTX64.EFI';

/**
 * Picks the loader the installer meant the firmware to start, from the files on the ESP: shim (Secure
 * Boot chain), Windows Boot Manager, GRUB, systemd-boot or another vendor .efi; else the fallback path.
 * Throws ERR_EFI_BOOT when the ESP has no x86-64 loader at all. Pure.
 */
export function chooseLoader(files: string[]): LoaderChoice {
  const lower = new Map(files.map((f) => [f.toLowerCase(), f]));
  const vendorFiles = files.filter((f) => /^\\efi\\[^\\]+\\.+\.efi$/i.test(f) && !/^\\efi\\boot\\/i.test(f));
  const vendor = (f: string): string => f.split('\\')[2] ?? 'OS';
  const pick = (re: RegExp, why: string, label?: (f: string) => string): LoaderChoice | undefined => {
    const f = vendorFiles.find((x) => re.test(x));
    return f ? { path: f, label: label?.(f) ?? vendor(f), why } : undefined;
  };
  const choice =
    pick(/\\microsoft\\boot\\bootmgfw\.efi$/i, 'Windows Boot Manager', () => 'Windows Boot Manager') ??
    pick(/\\shimx64\.efi$/i, 'shim (the Secure Boot chain the installer set up)') ??
    pick(/\\grubx64\.efi$/i, 'GRUB') ??
    pick(/\\systemd-bootx64\.efi$/i, 'systemd-boot', () => 'Linux Boot Manager') ??
    pick(/x64\.efi$/i, 'the vendor directory\'s x86-64 loader');
  if (choice) return choice;
  const fallback = lower.get(FALLBACK_LOADER.toLowerCase());
  if (fallback) return { path: fallback, label: 'UEFI OS', why: 'only the removable-media fallback loader is present' };
  throw new XepaError('ERR_EFI_BOOT', `the ESP holds no x86-64 UEFI loader (files: ${files.slice(0, 8).join(', ') || 'none'})`);
}
