import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPointKind, parseSmbiosTable, selectIdentityStructures, smbiosString, writeSmbiosFiles } from '../../../agent/fidelity/index.js';
import { SYNTHETIC_IDENTITY, syntheticDmiTable } from './synthetic-dmi.js';
import { codeOf } from '../../support/error-code.js';

describe('SMBIOS tables', () => {
  it('splits a table into its structures and stops at end-of-table', () => {
    const all = parseSmbiosTable(Buffer.concat([syntheticDmiTable(), Buffer.from('trailing junk after type 127')]));
    expect(all.map((s) => s.type)).toEqual([0, 1, 2, 3, 4, 17, 11, 127]);
    expect(all[1]!.handle).toBe(0x0100);
  });

  it('reads the strings a structure points to', () => {
    const system = parseSmbiosTable(syntheticDmiTable()).find((s) => s.type === 1)!;
    expect(smbiosString(system, 4)).toBe(SYNTHETIC_IDENTITY.sysVendor);
    expect(smbiosString(system, 7)).toBe(SYNTHETIC_IDENTITY.productSerial);
  });

  it('keeps the identity structures and leaves processor and memory to QEMU', () => {
    const kept = selectIdentityStructures(parseSmbiosTable(syntheticDmiTable()));
    expect(kept.map((s) => s.type)).toEqual([0, 1, 2, 3, 11]);
  });

  it('refuses a table cut in the middle of a structure', () => {
    const table = syntheticDmiTable();
    expect(codeOf(() => parseSmbiosTable(table.subarray(0, 30)))).toBe('ERR_BAD_REQUEST');
  });

  it('tells a 64-bit SMBIOS 3 entry point from a 32-bit one', () => {
    expect(entryPointKind(Buffer.from('_SM3_\x00\x00\x00', 'latin1'))).toBe('64');
    expect(entryPointKind(Buffer.from('_SM_\x00\x00\x00\x00', 'latin1'))).toBe('32');
    expect(entryPointKind(undefined)).toBeUndefined();
  });

  it('copies one structure per file into the job directory, the raw table beside them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xepa-smbios-'));
    try {
      const table = syntheticDmiTable();
      const smbios = await writeSmbiosFiles(table, dir, '64', ['type=11,value=extra']);
      expect(smbios.files.map((f) => f.replace(`${dir}/smbios/`, ''))).toEqual(['00-type0.bin', '01-type1.bin', '02-type2.bin', '03-type3.bin', '04-type11.bin']);
      expect(smbios.entryPoint).toBe('64');
      expect(smbios.fields).toEqual(['type=11,value=extra']);
      const type1 = await readFile(smbios.files[1]!);
      expect(parseSmbiosTable(type1)[0]!.type).toBe(1);
      expect((await readdir(join(dir, 'smbios'))).includes('host-DMI.bin')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
