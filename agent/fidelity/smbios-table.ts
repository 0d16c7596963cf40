import { XepaError } from '../protocol/index.js';

// One SMBIOS structure as it sits in the table: its type, handle and raw bytes (formatted area + strings).
export interface SmbiosStructure {
  type: number;
  handle: number;
  bytes: Buffer;
}

/**
 * The structure types that make up the machine's identity and that an installer or its OS reads:
 * 0 BIOS, 1 system (vendor, product, serial, UUID), 2 baseboard, 3 chassis, 11 OEM strings,
 * 41 onboard devices (the firmware index behind `eno1`-style NIC names).
 * Processor and memory structures (4, 16, 17, 19) are QEMU's own: they must describe the VM's CPUs and RAM.
 */
export const IDENTITY_TYPES: readonly number[] = [0, 1, 2, 3, 11, 41];

const END_OF_TABLE = 127;

/**
 * Splits a raw SMBIOS table (what /sys/firmware/dmi/tables/DMI holds: the structures, no entry point)
 * into its structures (SMBIOS spec 3.x §6.1: a formatted area of `length` bytes, then strings ending "\0\0").
 * Stops at the end-of-table structure. Throws ERR_BAD_REQUEST for a table cut short.
 */
export function parseSmbiosTable(table: Buffer): SmbiosStructure[] {
  const out: SmbiosStructure[] = [];
  let at = 0;
  while (at + 4 <= table.length) {
    const type = table[at]!;
    const length = table[at + 1]!;
    const handle = table.readUInt16LE(at + 2);
    if (length < 4 || at + length > table.length) {
      throw new XepaError('ERR_BAD_REQUEST', `SMBIOS structure at offset ${at} (type ${type}) has a bad length ${length}`);
    }
    // The string set ends with two NULs; a structure without strings still has both.
    let end = at + length;
    while (end + 1 < table.length && !(table[end] === 0 && table[end + 1] === 0)) end++;
    if (end + 1 >= table.length) throw new XepaError('ERR_BAD_REQUEST', `SMBIOS structure at offset ${at} (type ${type}) is cut short`);
    end += 2;
    out.push({ type, handle, bytes: table.subarray(at, end) });
    if (type === END_OF_TABLE) break;
    at = end;
  }
  return out;
}

// Keeps the identity structures (IDENTITY_TYPES) in table order; QEMU builds the others for the VM.
export function selectIdentityStructures(all: SmbiosStructure[], types: readonly number[] = IDENTITY_TYPES): SmbiosStructure[] {
  return all.filter((s) => types.includes(s.type));
}

// The strings of a structure, 1-based as SMBIOS references them (index 0 is unused).
export function smbiosStrings(s: SmbiosStructure): string[] {
  const length = s.bytes[1]!;
  const area = s.bytes.subarray(length, s.bytes.length - 2);
  return ['', ...(area.length === 0 || area[0] === 0 ? [] : area.toString('latin1').split('\0'))];
}

// The string a formatted-area byte at `offset` points to ('' when 0 or out of range).
export function smbiosString(s: SmbiosStructure, offset: number): string {
  const index = offset < s.bytes[1]! ? s.bytes[offset]! : 0;
  return smbiosStrings(s)[index] ?? '';
}

// Builds one structure from its formatted fields (after the 4-byte header) and its strings (test data, overrides).
export function encodeSmbiosStructure(type: number, handle: number, formatted: Buffer, strings: string[]): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header[1] = 4 + formatted.length;
  header.writeUInt16LE(handle, 2);
  const text = strings.length === 0 ? Buffer.from([0, 0]) : Buffer.from(`${strings.join('\0')}\0\0`, 'latin1');
  return Buffer.concat([header, formatted, text]);
}

/**
 * The SMBIOS version of the entry point file (/sys/firmware/dmi/tables/smbios_entry_point):
 * "_SM3_" is the 64-bit (3.x) entry point, "_SM_" the 32-bit (2.x) one.
 */
export function entryPointKind(entryPoint: Buffer | undefined): '64' | '32' | undefined {
  if (!entryPoint || entryPoint.length < 5) return undefined;
  if (entryPoint.subarray(0, 5).toString('latin1') === '_SM3_') return '64';
  if (entryPoint.subarray(0, 4).toString('latin1') === '_SM_') return '32';
  return undefined;
}
