import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseLoader, findEsps } from '../../../agent/finish/index.js';
import { codeOf } from '../../support/error-code.js';

// Captured from sfdisk 2.38 (Debian 12) on a GPT image with an ESP and a Linux partition.
const SFDISK = readFileSync(new URL('./fixtures/sfdisk-gpt-esp.json', import.meta.url), 'utf8');

describe('the EFI System Partition', () => {
  it('is found by its GPT type, with its number, byte offset and PARTUUID', () => {
    expect(findEsps('/dev/nvme0n1', SFDISK)).toEqual([
      { disk: '/dev/nvme0n1', node: 'esp.img1', number: 1, offsetBytes: 2048 * 512, sizeBytes: 65536 * 512, partuuid: '519f4df2-7676-a344-bb4f-07fbfcdbff0b' },
    ]);
  });

  it('is found on an MBR disk by type ef', () => {
    const mbr = JSON.stringify({ partitiontable: { label: 'dos', partitions: [{ node: '/dev/sda1', start: 2048, size: 1000, type: '83' }, { node: '/dev/sda2', start: 4096, size: 1000, type: 'ef' }] } });
    expect(findEsps('/dev/sda', mbr).map((e) => e.number)).toEqual([2]);
  });
});

describe('the loader finish registers', () => {
  it('prefers shim, the Secure Boot chain the installer set up', () => {
    expect(chooseLoader(['\\EFI\\BOOT\\BOOTX64.EFI', '\\EFI\\debian\\grubx64.efi', '\\EFI\\debian\\shimx64.efi'])).toMatchObject({ path: '\\EFI\\debian\\shimx64.efi', label: 'debian' });
  });

  it('takes Windows Boot Manager on a Windows ESP', () => {
    expect(chooseLoader(['\\EFI\\Microsoft\\Boot\\bootmgfw.efi', '\\EFI\\Boot\\bootx64.efi'])).toMatchObject({ path: '\\EFI\\Microsoft\\Boot\\bootmgfw.efi', label: 'Windows Boot Manager' });
  });

  it('takes systemd-boot and names it the way bootctl does', () => {
    expect(chooseLoader(['\\EFI\\systemd\\systemd-bootx64.efi'])).toMatchObject({ label: 'Linux Boot Manager' });
  });

  it('falls back to \\EFI\\BOOT\\BOOTX64.EFI when it is the only loader', () => {
    expect(chooseLoader(['\\EFI\\BOOT\\BOOTX64.EFI'])).toMatchObject({ path: '\\EFI\\BOOT\\BOOTX64.EFI', label: 'UEFI OS' });
  });

  it('refuses an ESP without any x86-64 loader', () => {
    expect(codeOf(() => chooseLoader(['\\EFI\\debian\\grub.cfg']))).toBe('ERR_EFI_BOOT');
  });
});
