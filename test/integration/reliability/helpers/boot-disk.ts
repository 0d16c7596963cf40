import { open } from 'node:fs/promises';
import { createLoopDisk, type LoopDisk } from '../../../../controller/demo/loop-disk.js';

// What the guest does once SeaBIOS boots the disk's 512-byte boot sector: print a line on COM1, then halt,
// reboot (reset control register 0xCF9), or power off (ACPI PM1a_CNT at 0x604 on q35, SLP_EN with S5 type 0).
export type GuestAction = 'halt' | 'reboot' | 'poweroff';

// The line the boot sector prints on COM1 each time it runs.
export const BOOT_MARKER = 'XEPA-BOOT-SECTOR-RAN';

const ACTIONS: Record<GuestAction, number[]> = {
  halt: [],
  reboot: [0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee], // mov dx,0xcf9; mov al,6; out dx,al
  poweroff: [0xba, 0x04, 0x06, 0xb8, 0x00, 0x20, 0xef], // mov dx,0x604; mov ax,0x2000; out dx,ax
};

// A hand-assembled real-mode boot sector (loaded at 0x7c00): cli; cld; ds=0; print the message at 0x7c20 to
// COM1 (0x3f8); the action; then hlt forever.
export function bootSector(action: GuestAction): Buffer {
  const code = [
    0xfa, 0xfc, 0x31, 0xc0, 0x8e, 0xd8, // cli; cld; xor ax,ax; mov ds,ax
    0xba, 0xf8, 0x03, // mov dx,0x3f8
    0xbe, 0x20, 0x7c, // mov si,0x7c20
    0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, // loop: lodsb; test al,al; jz +3; out dx,al; jmp loop
    ...ACTIONS[action],
    0xf4, 0xeb, 0xfd, // hlt; jmp back to hlt
  ];
  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector, 0);
  Buffer.from(`${BOOT_MARKER}\r\n\0`, 'latin1').copy(sector, 0x20);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

// A small loop device whose disk boots straight into `action` (the CD-ROM after it is never reached).
export async function createBootDisk(image: string, action: GuestAction, sizeMiB = 16): Promise<LoopDisk> {
  const disk = await createLoopDisk(image, sizeMiB);
  await writeBootSector(disk.device, action);
  return disk;
}

// Writes the boot sector of `action` onto a device or image.
export async function writeBootSector(path: string, action: GuestAction): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bootSector(action), 0, 512, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
