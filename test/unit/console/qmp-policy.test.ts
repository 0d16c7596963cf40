import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkQmpCommand } from '../../../agent/console/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { codeOf } from '../../support/error-code.js';


describe('QMP allow-list', () => {
  const root = mkdtempSync(join(tmpdir(), 'xepa-qmp-policy-'));
  const isos = join(root, 'isos');
  mkdirSync(isos);
  const DRIVERS = `${'d'.repeat(64)}.iso`; // a verified ISO of the cache is named by its digest
  writeFileSync(join(isos, DRIVERS), 'iso');
  writeFileSync(join(root, 'secret'), 'not media');
  symlinkSync(join(root, 'secret'), join(isos, 'escape.iso'));
  const ctx = { jobDir: join(root, 'job-1'), mediaDirs: [isos] };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes allowed commands with their arguments', () => {
    expect(checkQmpCommand('query-status', undefined, ctx)).toBeUndefined();
    expect(checkQmpCommand('send-key', { keys: [{ type: 'qcode', data: 'ret' }] }, ctx)).toEqual({ keys: [{ type: 'qcode', data: 'ret' }] });
  });

  it('refuses (ERR_FORBIDDEN) commands that reach beyond the guest', () => {
    for (const cmd of ['human-monitor-command', 'device_add', 'migrate', 'object-add', 'blockdev-add', 'qom-set', 'getfd']) {
      expect(codeOf(() => checkQmpCommand(cmd, {}, ctx))).toBe('ERR_FORBIDDEN');
    }
  });

  it('writes screendumps only into the job directory, from a plain name', () => {
    expect(checkQmpCommand('screendump', { filename: 'shot.ppm' }, ctx)).toEqual({ filename: join(root, 'job-1', 'screendumps', 'shot.ppm') });
    for (const filename of ['/etc/passwd', '../x.ppm', '.hidden', 'a/b.ppm', '']) {
      expect(codeOf(() => checkQmpCommand('screendump', { filename }, ctx))).toBe('ERR_FORBIDDEN');
    }
  });

  it('inserts media only from the media directories, raw, and not through a symlink that leads out', () => {
    expect(checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: join(isos, DRIVERS) }, ctx)).toEqual({
      id: 'cdrom0', filename: join(isos, DRIVERS), format: 'raw', 'read-only-mode': 'read-only',
    });
    expect(codeOf(() => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: join(root, 'secret') }, ctx))).toBe('ERR_FORBIDDEN');
    expect(codeOf(() => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: join(isos, 'escape.iso') }, ctx))).toBe('ERR_FORBIDDEN');
    expect(codeOf(() => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: join(isos, DRIVERS), format: 'qcow2' }, ctx))).toBe('ERR_FORBIDDEN');
    expect(codeOf(() => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: join(isos, 'missing.iso') }, ctx))).toBe('ERR_NOT_FOUND');
    expect(codeOf(() => checkQmpCommand('blockdev-change-medium', { id: 'cdrom0', filename: DRIVERS }, ctx))).toBe('ERR_FORBIDDEN');
  });

  it('is a XepaError whose message names the command and the allow-list', () => {
    let err: unknown;
    try {
      checkQmpCommand('human-monitor-command', {}, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XepaError);
    expect((err as Error).message).toMatch(/human-monitor-command.*allowed: query-status/);
  });
});
