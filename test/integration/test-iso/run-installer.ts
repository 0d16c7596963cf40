// Test helper: runs the test installer ISO in QEMU (TCG, q35) against one target disk until the guest powers off.
import { spawn } from 'node:child_process';

// The target disk and the bus it sits on.
export interface InstallerRun {
  iso: string;
  disk?: { path: string; bus: 'virtio' | 'nvme' | 'sata'; serial: string };
  timeoutMs: number;
}

// What the guest printed on ttyS0, whether QEMU exited by itself, and how long it ran.
export interface InstallerResult {
  serial: string;
  exitedByItself: boolean;
  seconds: number;
}

// The disk's -device for each bus; bootindex 1 so an empty disk falls through to the CD-ROM (bootindex 2).
function diskArgs(d: NonNullable<InstallerRun['disk']>): string[] {
  const drive = ['-drive', `file=${d.path},format=raw,if=none,id=target`];
  if (d.bus === 'virtio') return [...drive, '-device', `virtio-blk-pci,drive=target,serial=${d.serial},bootindex=1`];
  if (d.bus === 'nvme') return [...drive, '-device', `nvme,drive=target,serial=${d.serial},bootindex=1`];
  return [...drive, '-device', `ide-hd,drive=target,bus=ide.0,serial=${d.serial},bootindex=1`];
}

// Boots the installer; the ISO is a SATA (AHCI) CD-ROM on q35's ICH9 controller.
export function runInstaller(run: InstallerRun): Promise<InstallerResult> {
  const args = [
    '-accel', 'tcg', '-machine', 'q35', '-m', '512',
    '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio',
    ...(run.disk ? diskArgs(run.disk) : []),
    '-drive', `file=${run.iso},format=raw,if=none,id=cd0,media=cdrom,readonly=on`,
    '-device', 'ide-cd,drive=cd0,bus=ide.2,bootindex=2',
  ];
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (serial += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (serial += c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, run.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ serial: serial.replace(/\r/g, ''), exitedByItself: !timedOut, seconds: (Date.now() - started) / 1000 });
    });
  });
}
