import { z } from 'zod';
import { WireError } from './errors.js';
import { AnswerMedium, FidelityVmOptions, KeyScript, PlanFidelity } from './fidelity.js';
import { NicSelector, PassthroughMode, PlanPassthrough } from './passthrough.js';

// The install job's states (DESIGN §2). failed and cancelled are reached after `restoring` has run.
export const JOB_STATES = [
  'planned', 'fetching', 'verifying', 'binding', 'booting', 'running', 'stopping', 'restoring',
  'done', 'failed', 'cancelled',
] as const;
export const JobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobState>;

export const TERMINAL_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];
export const isTerminal = (s: JobState): boolean => TERMINAL_STATES.includes(s);

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/i, 'sha256 must be 64 hex digits');

// Names one target disk: by serial, WWN, or path. Serial/WWN are preferred: /dev names can move.
export const DiskSelector = z
  .object({
    serial: z.string().min(1).max(128).optional(),
    wwn: z.string().min(1).max(128).optional(),
    path: z.string().regex(/^\/dev\/[A-Za-z0-9._/-]+$/, 'path must be under /dev').max(256).optional(),
  })
  .strict()
  .refine((d) => d.serial !== undefined || d.wwn !== undefined || d.path !== undefined, {
    message: 'a disk needs a serial, a wwn or a path',
  });
export type DiskSelector = z.infer<typeof DiskSelector>;

// The installer's default time limit (--deadline): generous, since a TCG install of a large system takes hours.
export const DEFAULT_DEADLINE_SECONDS = 4 * 3600;

export const VmOptions = z
  .object({
    memoryMiB: z.number().int().min(256).max(1 << 22).optional(),
    cpus: z.number().int().min(1).max(256).optional(),
    firmware: z.enum(['auto', 'bios', 'uefi']).default('auto'),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    diskBus: z.enum(['virtio', 'sata', 'nvme']).default('virtio'),
    // How the installer ends: 'poweroff' (a reboot is reported and the guest boots on, from its disk) or
    // 'reboot' (the first guest reboot ends the VM and the job is done) — docs/install-job.md.
    endOn: z.enum(['poweroff', 'reboot']).default('poweroff'),
    // 'cdrom-once' (default): the installer CD boots first, and every later reboot starts from the disks, like a
    // one-time boot menu choice; 'disk-first' keeps an empty disk falling through to the CD; 'cdrom-first' always.
    bootOrder: z.enum(['cdrom-once', 'disk-first', 'cdrom-first']).default('cdrom-once'),
    // How long the installer may run, from the VM's start: past it the VM is stopped and the job fails
    // ERR_TIMEOUT with its devices restored (an installer that never powers off must not hold the disks forever).
    deadlineSeconds: z.number().int().min(5).max(7 * 24 * 3600).default(DEFAULT_DEADLINE_SECONDS),
    ...FidelityVmOptions, // cpuModel, secureBoot, tpm, smbios, nic (docs/fidelity.md)
  })
  .strict();
export type VmOptions = z.infer<typeof VmOptions>;

// What to install where: the ISO (URL and digest) and the disks the installer may write.
export const InstallRequest = z
  .object({
    iso: z
      .object({
        url: z.string().url().max(4096).refine((u) => /^https?:\/\//.test(u), 'iso.url must be http(s)'),
        sha256: sha256Hex,
        size: z.number().int().positive().optional(),
      })
      .strict(),
    disks: z.array(DiskSelector).min(1).max(64),
    vm: VmOptions.default({}),
    planHash: z.string().max(128).optional(), // install refuses with ERR_PLAN_CHANGED when the plan differs
    passthrough: PassthroughMode.default('auto'), // disks by vfio-pci controller passthrough or raw (docs/devices.md)
    nics: z.array(NicSelector).max(16).optional(), // NICs to pass through; the controller's NIC is always refused
    // Binds devices protected for an overridable reason (default-route NIC, boot medium); logged loudly.
    forceProtected: z.string().min(3).max(500).optional(),
    answer: AnswerMedium.optional(), // a second medium with the unattended installer's answer file(s)
    keys: KeyScript.optional(), // keystrokes at the boot menu, typed through QMP after the VM starts
  })
  .strict();
export type InstallRequest = z.input<typeof InstallRequest>;
export type InstallRequestParsed = z.output<typeof InstallRequest>;

// A dry run: what an install with this request would do on this machine now.
export const Plan = z.object({
  hash: z.string(),
  disks: z.array(
    z.object({
      path: z.string(),
      name: z.string(),
      serial: z.string().optional(),
      wwn: z.string().optional(),
      model: z.string().optional(),
      sizeBytes: z.number(),
      via: z.enum(['raw', 'vfio']),
      pciAddress: z.string().optional(), // the controller passed through when via is vfio
    }),
  ),
  firmware: z.enum(['bios', 'uefi']),
  accel: z.enum(['kvm', 'tcg']),
  accelReason: z.string(),
  memoryMiB: z.number().int(),
  cpus: z.number().int(),
  diskBus: z.enum(['virtio', 'sata', 'nvme']),
  deadlineSeconds: z.number().int().optional(), // the VM's time limit (vm.deadlineSeconds)
  iommu: z.boolean(),
  warnings: z.array(z.string()),
  passthrough: PlanPassthrough.optional(), // devices, IOMMU groups and the protected set (docs/devices.md)
  fidelity: PlanFidelity.optional(), // how the VM mirrors the metal and what differs (docs/fidelity.md)
});
export type Plan = z.infer<typeof Plan>;

// One step of a job. `seq` starts at 1 and has no gaps; a client resumes with the last seq it saw.
export const JobEvent = z.object({
  job: z.string(),
  seq: z.number().int().positive(),
  ts: z.string(),
  state: JobState,
  progress: z.number().min(0).max(1).optional(),
  message: z.string(),
  detail: z.record(z.unknown()).optional(),
});
export type JobEvent = z.infer<typeof JobEvent>;

export const JobSummary = z.object({
  id: z.string(),
  state: JobState,
  createdAt: z.string(),
  updatedAt: z.string(),
  lastSeq: z.number().int().nonnegative(),
  plan: Plan.optional(),
  accel: z.enum(['kvm', 'tcg']).optional(),
  consoles: z.object({ vnc: z.string(), qmp: z.string(), serial: z.array(z.string()) }).optional(),
  error: WireError.optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;
