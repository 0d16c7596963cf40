import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { entryMatches, orderWith, parseEfibootmgr } from '../../../agent/finish/index.js';

const V17 = readFileSync(new URL('./fixtures/efibootmgr-v17.txt', import.meta.url), 'utf8');

describe('efibootmgr output', () => {
  it('reads BootCurrent, BootOrder and every entry with its active flag, label and device path', () => {
    const s = parseEfibootmgr(V17);
    expect(s.current).toBe('0002');
    expect(s.order).toEqual(['0002', '0000', '0001']);
    expect(s.entries.map((e) => [e.num, e.active, e.label])).toEqual([
      ['0000', true, 'UiApp'], ['0001', true, 'UEFI PXEv4 (MAC:B4969100001)'], ['0002', true, 'debian'], ['0003', false, 'Old debian'],
    ]);
  });

  it('matches an entry by PARTUUID and loader path in either notation and any case', () => {
    const s = parseEfibootmgr(V17);
    const debian = s.entries[2]!;
    expect(entryMatches(debian, '0D4C2F7A-1111-4222-8333-944455556666'.toLowerCase(), '\\EFI\\debian\\shimx64.efi')).toBe(true);
    expect(entryMatches(debian, 'aaaaaaaa-1111-4222-8333-944455556666', '\\EFI\\debian\\shimx64.efi')).toBe(false);
    const v18 = parseEfibootmgr('Boot0004* debian\tHD(1,GPT,0d4c2f7a-1111-4222-8333-944455556666,0x800,0x100000)/\\EFI\\DEBIAN\\SHIMX64.EFI').entries[0]!;
    expect(entryMatches(v18, '0d4c2f7a-1111-4222-8333-944455556666', '\\EFI\\debian\\shimx64.efi')).toBe(true);
  });

  it('puts an entry first, or appends it and keeps the provider\'s order', () => {
    expect(orderWith(['0001', '0000', '0005'], '0005', 'first')).toEqual(['0005', '0001', '0000']);
    expect(orderWith(['0001', '0000'], '0005', 'keep')).toEqual(['0001', '0000', '0005']);
    expect(orderWith(['0001', '0005'], '0005', 'keep')).toEqual(['0001', '0005']);
  });
});
