import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmSpec } from '../agent/vm/index.js';

// A tiny Linux guest for the console tests and benchmark: the test ISO's kernel with a busybox initramfs
// written here (pure TypeScript cpio), so the guest stays up and does what a console test needs.
//  - 'text': VGA text mode; COM1 and COM2 print a hello; what is typed on the VGA console is reported on COM1
//    as "KEYS:<line>"; COM2 echoes each line it receives as "ECHO:<line>".
//  - 'fb1080': a 1920x1080x32 VESA framebuffer (generic kernel, vga=0x392) that the guest keeps redrawing,
//    so QEMU's VNC server refreshes at its fastest pace (the benchmark's changing screen).

/** Which guest. */
export type ConsoleGuestMode = 'text' | 'fb1080';

// What the guests print on COM1 when they are ready.
export const GUEST_READY = { text: 'XEPA-GUEST: consoles ready', fb1080: 'XEPA-GUEST: drawing' } as const;

const MOUNTS = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
`;

const INIT: Record<ConsoleGuestMode, string> = {
  text: `${MOUNTS}echo "XEPA-GUEST: serial1 up" > /dev/ttyS1
( while read -r l; do echo "ECHO:$l"; done < /dev/ttyS1 > /dev/ttyS1 ) &
echo "type here:" > /dev/tty1
echo "${GUEST_READY.text}" > /dev/ttyS0
while read -r l; do echo "KEYS:$l" > /dev/ttyS0; done < /dev/tty1
while true; do sleep 3600; done
`,
  fb1080: `${MOUNTS}echo "XEPA-GUEST: fb $(cat /sys/class/graphics/fb0/virtual_size) $(cat /sys/class/graphics/fb0/bits_per_pixel)" > /dev/ttyS0
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null
dd if=/dev/urandom of=/noise bs=1M count=8 2>/dev/null
cat /noise > /dev/fb0 2>/dev/null
dd if=/dev/urandom of=/a bs=64k count=4 2>/dev/null
dd if=/dev/zero of=/b bs=64k count=4 2>/dev/null
echo "${GUEST_READY.fb1080}" > /dev/ttyS0
while true; do cat /a > /dev/fb0 2>/dev/null; cat /b > /dev/fb0 2>/dev/null; done
`,
};

const CMDLINE: Record<ConsoleGuestMode, string> = {
  text: 'console=tty0 console=ttyS0,115200 quiet panic=-1',
  fb1080: 'console=ttyS0,115200 vga=0x392 quiet panic=-1', // VESA mode 0x192: 1920x1080x32 (SeaBIOS vgabios)
};

/** One cpio entry. */
type Entry = { name: string; mode: number; data?: Buffer };

// Writes a cpio "newc" archive (what the kernel unpacks as initramfs).
export function cpioNewc(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  [...entries, { name: 'TRAILER!!!', mode: 0 }].forEach((e, i) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [i + 1, e.mode, 0, 0, e.mode >> 12 === 4 ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1');
    parts.push(header, name, pad(header.length + name.length), data, pad(data.length));
  });
  return Buffer.concat(parts);
}

// Builds the guest's initramfs in dir from a static busybox (Debian busybox-static); returns its path.
export async function buildConsoleGuest(dir: string, mode: ConsoleGuestMode, busybox = '/bin/busybox'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const dirs = ['bin', 'dev', 'proc', 'sys', 'tmp'].map((name) => ({ name, mode: 0o040755 }));
  const archive = cpioNewc([
    ...dirs,
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync(busybox) },
    { name: 'init', mode: 0o100755, data: Buffer.from(INIT[mode]) },
  ]);
  const path = join(dir, `console-guest-${mode}.cpio`);
  await writeFile(path, archive);
  return path;
}

// The VM spec of the guest: sockets and serial logs in dir, TCG (a Linux guest hangs under KVM on some hosts).
export function consoleGuestSpec(o: { name: string; dir: string; kernel: string; initrd: string; mode: ConsoleGuestMode; memoryMiB?: number }): VmSpec {
  return {
    name: o.name,
    accel: 'tcg',
    memoryMiB: o.memoryMiB ?? 256,
    cpus: 1,
    firmware: { mode: 'bios' },
    disks: [],
    sockets: { qmp: join(o.dir, 'qmp.sock'), vnc: join(o.dir, 'vnc.sock'), serial: [join(o.dir, 'serial0.sock'), join(o.dir, 'serial1.sock')] },
    serialLogs: [join(o.dir, 'serial0.log'), join(o.dir, 'serial1.log')],
    extraArgs: ['-kernel', o.kernel, '-initrd', o.initrd, '-append', CMDLINE[o.mode]],
  };
}
