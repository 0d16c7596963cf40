import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOvmf, prepareUefiVars } from '../../../agent/vm/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { tempDirPerTest } from '../../support/temp-dir.js';

const root = tempDirPerTest('xepa-fw-');

async function put(path: string, content = path): Promise<void> {
  await mkdir(dirname(join(root(), path)), { recursive: true });
  await writeFile(join(root(), path), content);
}

// What Debian 12's ovmf package installs (dpkg -L ovmf), symlinks included.
async function debianLayout(): Promise<void> {
  for (const f of ['OVMF_CODE.fd', 'OVMF_CODE.secboot.fd', 'OVMF_CODE_4M.fd', 'OVMF_CODE_4M.secboot.fd', 'OVMF_VARS.fd',
    'OVMF_VARS.ms.fd', 'OVMF_VARS_4M.fd', 'OVMF_VARS_4M.ms.fd', 'OVMF_VARS_4M.snakeoil.fd']) {
    await put(`usr/share/OVMF/${f}`);
  }
  await symlink('OVMF_CODE_4M.secboot.fd', join(root(), 'usr/share/OVMF/OVMF_CODE_4M.ms.fd'));
  await symlink('OVMF_CODE.secboot.fd', join(root(), 'usr/share/OVMF/OVMF_CODE.ms.fd'));
  await put('usr/share/ovmf/OVMF.fd');
}

describe('findOvmf', () => {
  it('prefers the 4M code/vars pair on a Debian layout', async () => {
    await debianLayout();
    expect(await findOvmf(root())).toEqual({
      kind: 'split',
      codePath: join(root(), 'usr/share/OVMF/OVMF_CODE_4M.fd'),
      varsPath: join(root(), 'usr/share/OVMF/OVMF_VARS_4M.fd'),
      secureBoot: false,
    });
  });

  it('picks the Secure Boot build with Microsoft keys when asked', async () => {
    await debianLayout();
    expect(await findOvmf(root(), { secureBoot: true })).toEqual({
      kind: 'split',
      codePath: join(root(), 'usr/share/OVMF/OVMF_CODE_4M.ms.fd'),
      varsPath: join(root(), 'usr/share/OVMF/OVMF_VARS_4M.ms.fd'),
      secureBoot: true,
    });
  });

  it('falls back to the plain build, saying so, when no Secure Boot build exists', async () => {
    await put('usr/share/OVMF/OVMF_CODE_4M.fd');
    await put('usr/share/OVMF/OVMF_VARS_4M.fd');
    expect(await findOvmf(root(), { secureBoot: true })).toMatchObject({ kind: 'split', secureBoot: false });
  });

  it('uses the non-4M names when only those exist', async () => {
    await put('usr/share/OVMF/OVMF_CODE.fd');
    await put('usr/share/OVMF/OVMF_VARS.fd');
    expect(await findOvmf(root())).toMatchObject({ codePath: join(root(), 'usr/share/OVMF/OVMF_CODE.fd') });
  });

  it('ignores a code file whose vars file is missing', async () => {
    await put('usr/share/OVMF/OVMF_CODE_4M.fd');
    await put('usr/share/OVMF/OVMF_CODE.fd');
    await put('usr/share/OVMF/OVMF_VARS.fd');
    expect(await findOvmf(root())).toMatchObject({ codePath: join(root(), 'usr/share/OVMF/OVMF_CODE.fd') });
  });

  it('finds a unified image on an Alpine layout', async () => {
    await put('usr/share/OVMF/OVMF.fd');
    await mkdir(join(root(), 'usr/share/ovmf'), { recursive: true });
    await symlink('../OVMF/OVMF.fd', join(root(), 'usr/share/ovmf/bios.bin'));
    expect(await findOvmf(root())).toEqual({ kind: 'unified', imagePath: join(root(), 'usr/share/OVMF/OVMF.fd') });
  });

  it('finds Alpine bios.bin alone', async () => {
    await put('usr/share/ovmf/bios.bin');
    expect(await findOvmf(root())).toEqual({ kind: 'unified', imagePath: join(root(), 'usr/share/ovmf/bios.bin') });
  });

  it('reports missing firmware with ERR_FIRMWARE_MISSING naming the package', async () => {
    const err = await findOvmf(root()).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_FIRMWARE_MISSING')).toBe(true);
    expect((err as Error).message).toMatch(/ovmf package/);
    expect((err as { details: { package: string } }).details.package).toBe('ovmf');
  });

  it('does not accept a dangling symlink as firmware', async () => {
    await mkdir(join(root(), 'usr/share/ovmf'), { recursive: true });
    await symlink('/nonexistent/OVMF.fd', join(root(), 'usr/share/ovmf/bios.bin'));
    expect(isXepaError(await findOvmf(root()).catch((e: unknown) => e), 'ERR_FIRMWARE_MISSING')).toBe(true);
  });
});

describe('prepareUefiVars', () => {
  it('copies VARS into the job dir and points the firmware at the copy, code left in place', async () => {
    await debianLayout();
    const job = join(root(), 'job');
    await mkdir(job);
    const fw = await prepareUefiVars(await findOvmf(root()), job);
    expect(fw).toEqual({ mode: 'uefi', codePath: join(root(), 'usr/share/OVMF/OVMF_CODE_4M.fd'), varsPath: join(job, 'OVMF_VARS.fd') });
    expect(await readFile(join(job, 'OVMF_VARS.fd'), 'utf8')).toBe('usr/share/OVMF/OVMF_VARS_4M.fd');
    expect((await stat(join(job, 'OVMF_VARS.fd'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the Secure Boot flag and copies the file behind a symlink', async () => {
    await debianLayout();
    const job = join(root(), 'job');
    await mkdir(job);
    const found = await findOvmf(root(), { secureBoot: true });
    expect(await prepareUefiVars(found, job)).toMatchObject({ secureBoot: true, codePath: join(root(), 'usr/share/OVMF/OVMF_CODE_4M.ms.fd') });
    expect((await stat(join(job, 'OVMF_VARS.fd'))).isFile()).toBe(true);
  });

  it('copies a unified image whole, so each job gets its own variable store', async () => {
    await put('usr/share/ovmf/bios.bin', 'unified');
    const job = join(root(), 'job');
    await mkdir(job);
    const fw = await prepareUefiVars(await findOvmf(root()), job);
    expect(fw).toEqual({ mode: 'uefi', imagePath: join(job, 'OVMF.fd') });
    expect(await readFile(join(job, 'OVMF.fd'), 'utf8')).toBe('unified');
  });

  it('reports firmware removed since findOvmf with ERR_FIRMWARE_MISSING', async () => {
    const found = { kind: 'split' as const, codePath: join(root(), 'c.fd'), varsPath: join(root(), 'gone.fd'), secureBoot: false };
    expect(isXepaError(await prepareUefiVars(found, root()).catch((e: unknown) => e), 'ERR_FIRMWARE_MISSING')).toBe(true);
  });
});
