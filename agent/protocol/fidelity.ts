import { z } from 'zod';
import { BOOT_ENTRY_POLICIES, NETWORK_MODES, PlanLanding } from './landing.js';

// Hardware fidelity and the move to metal on the wire (docs/fidelity.md): request options, the plan's
// fidelity report, answer media, boot-menu keystrokes, partition-table backups and the finish report.

const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'a MAC looks like a0:36:9f:00:00:01');

// Bytes of answer-file content one request may carry inline (a control message is at most 1 MiB).
export const MAX_ANSWER_BYTES = 512 * 1024;

// How the VM is made to look like the server; every field has a default that mirrors the host.
export const FidelityVmOptions = {
  // 'auto': the host's model under KVM when QEMU can run it (probed), else a safe fallback; or a QEMU model name.
  cpuModel: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'a QEMU CPU model name').default('auto'),
  // 'auto' follows the host's Secure Boot state (when an OVMF Secure Boot build exists).
  secureBoot: z.enum(['auto', 'on', 'off']).default('auto'),
  // 'auto': a TPM 2.0 (swtpm) when the host has one; 'on' refuses to plan without swtpm.
  tpm: z.enum(['auto', 'on', 'off']).default('auto'),
  // 'host': the host's identity SMBIOS structures (BIOS, system, board, chassis, OEM strings, onboard devices).
  smbios: z.enum(['host', 'none']).default('host'),
  // 'auto': an emulated NIC on QEMU user networking (NAT, never bridged) unless NICs are passed through.
  nic: z.enum(['auto', 'user', 'none']).default('auto'),
  nicModel: z.enum(['e1000e', 'virtio']).default('e1000e'),
  // The emulated NIC's MAC; default: the MAC of the host NIC the installed system will use.
  mac: mac.optional(),
};

// One file of an answer medium; `path` is relative to the medium's root.
export const AnswerFile = z
  .object({
    path: z.string().max(200).regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path of letters, digits, . _ -')
      .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'no . or .. in a path'),
    content: z.string().max(MAX_ANSWER_BYTES * 2),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
  })
  .strict();
export type AnswerFile = z.infer<typeof AnswerFile>;

// The installer families XEPA knows the medium conventions of (label, required files).
export const ANSWER_KINDS = ['cloud-init', 'autounattend', 'kickstart', 'preseed', 'proxmox', 'custom'] as const;

// A second virtual medium built on the fly: the answer file(s) an unattended installer looks for.
export const AnswerMedium = z
  .object({
    kind: z.enum(ANSWER_KINDS).default('custom'),
    // Volume label; default by kind (CIDATA, OEMDRV, PROXMOX-AIS ...). ISO 9660 allows 32, FAT 11 characters.
    label: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a label of letters, digits, _ and -').optional(),
    // iso9660: a read-only SATA CD-ROM (never an install target); vfat: a read-only USB stick.
    format: z.enum(['iso9660', 'vfat']).default('iso9660'),
    files: z.array(AnswerFile).min(1).max(32),
  })
  .strict();
export type AnswerMedium = z.input<typeof AnswerMedium>;
export type AnswerMediumParsed = z.output<typeof AnswerMedium>;

// QEMU QKeyCode names (QMP send-key): letters, digits, ret, esc, tab, f1..f12, up, down, ctrl, alt ...
const keyName = z.string().regex(/^[a-z0-9_]{1,16}$/, 'a QEMU key name such as ret, esc, f2, ctrl, alt_r');

// One step of a boot-menu keystroke script, run by the job through QMP after the VM starts.
export const KeyStep = z.union([
  z.object({ waitMs: z.number().int().min(0).max(600_000) }).strict(),
  z.object({ keys: z.array(keyName).min(1).max(8) }).strict(), // pressed together (a chord), then released
  z.object({ text: z.string().min(1).max(1000) }).strict(), // typed on a US keyboard; \n is Enter
]);
export type KeyStep = z.infer<typeof KeyStep>;
// The whole keystroke script of a request, run in order.
export const KeyScript = z.array(KeyStep).max(200);

const level = z.enum(['same', 'differs', 'absent']);

// What the plan says about how close the VM comes to the metal, and what will still differ.
export const PlanFidelity = z.object({
  firmware: z.object({
    host: z.enum(['bios', 'uefi']),
    vm: z.enum(['bios', 'uefi']),
    secureBoot: z.object({ host: z.boolean().optional(), vm: z.boolean(), available: z.boolean() }),
  }),
  cpu: z.object({ model: z.string(), reason: z.string() }),
  smbios: z.object({ source: z.enum(['host', 'none']), structures: z.array(z.number().int()), reason: z.string() }),
  tpm: z.object({ host: z.enum(['none', '1.2', '2.0']), vm: z.boolean(), reason: z.string() }),
  nic: z.object({ mode: z.enum(['user', 'none', 'passthrough']), model: z.string().optional(), mac: z.string().optional(), reason: z.string() }),
  answer: z.object({ kind: z.string(), label: z.string(), format: z.string(), files: z.number().int(), bytes: z.number().int() }).optional(),
  keys: z.object({ steps: z.number().int(), waitMs: z.number().int() }).optional(),
  iommu: z.object({ enabled: z.boolean(), interruptRemapping: z.enum(['on', 'off', 'unknown']) }),
  resetMethods: z.array(z.object({ bdf: z.string(), className: z.string(), methods: z.array(z.string()) })),
  memory: z.object({ availableMiB: z.number().int(), isoMiB: z.number().int(), vmMiB: z.number().int(), reserveMiB: z.number().int() }),
  // One line per aspect: identity, firmware, cpu, tpm, nic -> same | differs | absent, for the summary table.
  summary: z.record(level),
  differences: z.array(z.string()),
  // What `finish` will do with the installed system's network by default, from the rescue system's live network.
  landing: PlanLanding.optional(),
});
export type PlanFidelity = z.infer<typeof PlanFidelity>;

// A target disk's partition table, saved before the installer may write: sfdisk's dump and the raw ends.
// Bounded so that a record is refused by its shape, before anything in it is decompressed (docs/fidelity.md).
const rawEnd = z.number().int().nonnegative().max(1 << 20); // at most RAW_END_BYTES of each end
const gzBase64 = z.string().max(1_200_000);
export const PartitionBackup = z.object({
  disk: z.string().max(256),
  serial: z.string().max(256).optional(),
  wwn: z.string().max(256).optional(), // absent in backups made before the WWN was recorded
  sizeBytes: z.number().int().nonnegative(),
  takenAt: z.string().max(64),
  sfdisk: z.string().max(256 * 1024).optional(), // `sfdisk --dump` text; absent for a disk without a partition table
  // gzip+base64 of the first and last bytes of the disk (MBR, GPT headers and entries, boot code gap).
  head: z.object({ bytes: rawEnd, gzBase64 }),
  tail: z.object({ bytes: rawEnd, offset: z.number().int().nonnegative(), gzBase64 }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/), // of head then tail, raw
});
export type PartitionBackup = z.infer<typeof PartitionBackup>;

// One step of `finish` and how it went.
export const FinishStep = z.object({
  step: z.enum(['vm', 'devices', 'backup', 'root', 'network', 'efi', 'bios', 'check', 'reboot']),
  status: z.enum(['ok', 'warn', 'fail', 'skipped']),
  message: z.string(),
  detail: z.record(z.unknown()).optional(),
});
export type FinishStep = z.infer<typeof FinishStep>;

// What `finish` is asked to do; the defaults never reboot.
export const FinishParams = z
  .object({
    job: z.string().min(1).max(64),
    reboot: z.boolean().default(false), // never by default
    efi: z.enum(['auto', 'skip']).default('auto'), // 'skip' is bootEntry 'none' (kept for older controllers)
    // UEFI servers: an NVRAM entry (efibootmgr), the removable-media path \EFI\BOOT\BOOTX64.EFI, or nothing.
    bootEntry: z.enum(BOOT_ENTRY_POLICIES).default('nvram'),
    // The installed system's network: the rescue system's live configuration matched by MAC (default), DHCP
    // on the NIC matched by MAC, or untouched.
    network: z.enum(NETWORK_MODES).default('rescue'),
    // 'first': the installed system's entry first in BootOrder; 'keep': added last (PXE-first providers).
    bootOrder: z.enum(['first', 'keep']).default('first'),
    // Boot the installed disks once in a VM (no CD) and wait for this text on a serial port.
    banner: z.string().min(1).max(200).optional(),
    bannerTimeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
  })
  .strict();
export type FinishParams = z.input<typeof FinishParams>;

// Every step of `finish` with its result; ok when none failed.
export const FinishReport = z.object({
  job: z.string(),
  ok: z.boolean(),
  steps: z.array(FinishStep),
  rebooting: z.boolean(),
});
export type FinishReport = z.infer<typeof FinishReport>;

// Which saved partition table to write back, how, and optionally the controller's copy of it.
export const RestorePartitionTableParams = z
  .object({
    job: z.string().min(1).max(64),
    disk: z.string().min(1).max(256), // the backup's disk path, serial or WWN
    mode: z.enum(['sfdisk', 'raw']).default('sfdisk'),
    // The controller's copy, a cross-check only: refused unless identical to the agent's own record (same
    // digest); the bytes written always come from the agent's record of this job.
    backup: PartitionBackup.optional(),
  })
  .strict();
export type RestorePartitionTableParams = z.input<typeof RestorePartitionTableParams>;
