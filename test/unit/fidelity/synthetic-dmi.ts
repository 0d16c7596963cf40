// A synthetic SMBIOS table with the shape of a real server's (the VM host used for tests has no DMI).
import { encodeSmbiosStructure } from '../../../agent/fidelity/index.js';

// The identity the table carries; tests compare what the guest prints with these.
export const SYNTHETIC_IDENTITY = {
  biosVendor: 'Dell Inc.',
  biosVersion: '2.19.0',
  sysVendor: 'Dell Inc.',
  productName: 'PowerEdge R650',
  productVersion: 'Not Specified',
  productSerial: 'XEPA7Q3',
  productUuid: '4c4c4544-0042-3510-8051-b4c04f4a3032',
  productSku: 'SKU=0A1B',
  productFamily: 'PowerEdge',
  boardVendor: 'Dell Inc.',
  boardName: '0K9T5C',
  boardSerial: '.XEPA7Q3.CNFCP0022100QN.',
  chassisVendor: 'Dell Inc.',
  chassisSerial: 'XEPA7Q3',
  chassisAsset: 'rack-12-u07',
};

// SMBIOS >= 2.6 stores the UUID's first three fields little-endian (Linux prints them back canonical).
export function uuidBytes(uuid: string): Buffer {
  const b = Buffer.from(uuid.replaceAll('-', ''), 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

// The table: BIOS, system, baseboard, chassis, processor, memory device, OEM strings, end of table.
export function syntheticDmiTable(id = SYNTHETIC_IDENTITY): Buffer {
  return Buffer.concat([
    encodeSmbiosStructure(0, 0x0000, Buffer.from([1, 2, 0x00, 0xf0, 3, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0]), [id.biosVendor, id.biosVersion, '07/01/2024']),
    encodeSmbiosStructure(1, 0x0100, Buffer.concat([Buffer.from([1, 2, 3, 4]), uuidBytes(id.productUuid), Buffer.from([6, 5, 6])]),
      [id.sysVendor, id.productName, id.productVersion, id.productSerial, id.productSku, id.productFamily]),
    encodeSmbiosStructure(2, 0x0200, Buffer.from([1, 2, 3, 4]), [id.boardVendor, id.boardName, 'A01', id.boardSerial]),
    encodeSmbiosStructure(3, 0x0300, Buffer.from([1, 0x17, 2, 3, 4]), [id.chassisVendor, '', id.chassisSerial, id.chassisAsset].map((s) => s || 'Not Specified')),
    encodeSmbiosStructure(4, 0x0400, Buffer.from([1, 3, 0xfe, 2, 0, 0, 0, 0, 0, 0, 0, 0]), ['CPU1', 'Intel']),
    encodeSmbiosStructure(17, 0x1100, Buffer.from([0, 0x10, 0xfe, 0xff, 64, 0, 64, 0, 0, 0x40, 0x09, 0, 1, 0]), []),
    encodeSmbiosStructure(11, 0x0b00, Buffer.from([1]), ['xepa-oem-string']),
    encodeSmbiosStructure(127, 0x7f00, Buffer.alloc(0), []),
  ]);
}
