import { constants } from 'node:fs';
import { access, chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XepaError, hasErrno } from '../protocol/index.js';
import type { UefiSplitFirmware, UefiUnifiedFirmware } from './vm-spec.js';

// OVMF files found on this system: a code/vars pair (preferred) or one unified image.
export type OvmfFiles =
  | { kind: 'split'; codePath: string; varsPath: string; secureBoot: boolean }
  | { kind: 'unified'; imagePath: string };

type Pair = [code: string, vars: string];

// Secure Boot capable code with Microsoft keys enrolled (what a host with Secure Boot on expects).
const SECURE_PAIRS: Pair[] = [
  ['/usr/share/OVMF/OVMF_CODE_4M.ms.fd', '/usr/share/OVMF/OVMF_VARS_4M.ms.fd'], // Debian 12+
  ['/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', '/usr/share/OVMF/OVMF_VARS_4M.ms.fd'],
  ['/usr/share/OVMF/OVMF_CODE.secboot.fd', '/usr/share/OVMF/OVMF_VARS.ms.fd'], // Debian 2M builds
  ['/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd', '/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd'], // Fedora
];

const PLAIN_PAIRS: Pair[] = [
  ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'], // Debian 12+, Ubuntu
  ['/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd'], // Debian 2M builds, Alpine
  ['/usr/share/ovmf/OVMF_CODE.fd', '/usr/share/ovmf/OVMF_VARS.fd'],
  ['/usr/share/edk2/x64/OVMF_CODE.4m.fd', '/usr/share/edk2/x64/OVMF_VARS.4m.fd'], // Arch
  ['/usr/share/edk2/ovmf/OVMF_CODE.fd', '/usr/share/edk2/ovmf/OVMF_VARS.fd'], // Fedora
  ['/usr/share/qemu/edk2-x86_64-code.fd', '/usr/share/qemu/edk2-i386-vars.fd'], // QEMU's own blobs
];

// Unified images (code + variables in one file): usable only as a per-job writable copy.
const UNIFIED: string[] = [
  '/usr/share/ovmf/OVMF.fd', // Debian
  '/usr/share/OVMF/OVMF.fd', // Alpine
  '/usr/share/ovmf/bios.bin', // Alpine
  '/usr/share/qemu/OVMF.fd',
];

// Every path findOvmf looks at, in order (for messages and docs).
export const OVMF_SEARCH_PATHS: readonly string[] = [...SECURE_PAIRS.flat(), ...PLAIN_PAIRS.flat(), ...UNIFIED];

/**
 * Locates OVMF under fsRoot. With secureBoot, a Secure Boot build is preferred; without one the plain
 * build is returned with secureBoot: false (the caller warns). Missing -> ERR_FIRMWARE_MISSING.
 */
export async function findOvmf(fsRoot = '/', opts: { secureBoot?: boolean } = {}): Promise<OvmfFiles> {
  const at = (p: string): string => join(fsRoot, p);
  const pairs = opts.secureBoot ? [...SECURE_PAIRS.map((p) => [p, true] as const), ...PLAIN_PAIRS.map((p) => [p, false] as const)]
    : PLAIN_PAIRS.map((p) => [p, false] as const);
  for (const [[code, vars], secureBoot] of pairs) {
    if ((await readable(at(code))) && (await readable(at(vars)))) {
      return { kind: 'split', codePath: at(code), varsPath: at(vars), secureBoot };
    }
  }
  for (const image of UNIFIED) {
    if (await readable(at(image))) return { kind: 'unified', imagePath: at(image) };
  }
  throw new XepaError(
    'ERR_FIRMWARE_MISSING',
    `UEFI firmware (OVMF) not found under ${fsRoot}: install the ovmf package (Debian: apt-get install ovmf; Alpine: apk add ovmf)`,
    { details: { package: 'ovmf', searched: OVMF_SEARCH_PATHS.map(at) } },
  );
}

/**
 * Copies the writable part of OVMF into the job directory (VARS for a split build, the whole image for a
 * unified one) and returns the VmSpec firmware that uses it. Each job starts from a clean variable store.
 */
export async function prepareUefiVars(found: OvmfFiles, jobDir: string): Promise<UefiSplitFirmware | UefiUnifiedFirmware> {
  if (found.kind === 'unified') {
    const imagePath = join(jobDir, 'OVMF.fd');
    await copyWritable(found.imagePath, imagePath);
    return { mode: 'uefi', imagePath };
  }
  const varsPath = join(jobDir, 'OVMF_VARS.fd');
  await copyWritable(found.varsPath, varsPath);
  return { mode: 'uefi', codePath: found.codePath, varsPath, ...(found.secureBoot ? { secureBoot: true } : {}) };
}

async function copyWritable(from: string, to: string): Promise<void> {
  if (!(await readable(from))) {
    throw new XepaError('ERR_FIRMWARE_MISSING', `OVMF file ${from} is gone: reinstall the ovmf package`, {
      details: { package: 'ovmf', path: from },
    });
  }
  try {
    await copyFile(from, to); // follows symlinks (Debian's .ms.fd names are links)
    await chmod(to, 0o600);
  } catch (err) {
    const code = hasErrno(err, 'ENOSPC') ? 'ERR_NO_SPACE' : 'ERR_INTERNAL';
    throw new XepaError(code, `cannot copy OVMF variables ${from} to ${to}`, { cause: err });
  }
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
