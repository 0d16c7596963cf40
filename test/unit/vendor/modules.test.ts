import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODULES, loadModules } from '../../../controller/vendor/index.js';

describe('OS modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-modules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every built-in module: NixOS, Talos, FreeBSD, Flatcar, Alpine and generic', async () => {
    const { modules, errors } = await loadModules();
    expect(errors).toEqual([]);
    expect([...modules.keys()].sort()).toEqual(['alpine', 'debian', 'flatcar', 'freebsd', 'generic', 'nixos', 'talos']);
    expect(modules.get('talos')?.boot.method).toBe('kernel-initrd');
    expect(modules.get('freebsd')?.boot.method).toBe('iso');
    expect(modules.get('flatcar')?.boot).toMatchObject({ configName: 'ignition.json' });
    expect(modules.get('alpine')?.files.map((f) => f.name)).toEqual(['netboot.tar.gz', 'vmlinuz-lts', 'initramfs-lts', 'modloop-lts']);
  });

  it('reports a broken module file by name and reason, and still loads the others', async () => {
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...BUILTIN_MODULES.find((m) => m.name === 'generic'), name: 'broken', boot: { method: 'iso', iso: 'missing.iso' } }));
    writeFileSync(join(dir, 'notjson.json'), '{ nope');
    const logged: string[] = [];
    const { modules, errors } = await loadModules({ dir, log: (_f, msg) => logged.push(msg) });
    expect(errors.map((e) => e.module).sort()).toEqual(['broken', 'notjson']);
    expect(errors.find((e) => e.module === 'broken')?.message).toMatch(/boot names file missing\.iso/);
    expect(modules.has('talos')).toBe(true);
    expect(logged).toContain('OS module rejected');
  });

  it('rejects a module whose version template would reach outside its fields (unknown file source, bad regex)', async () => {
    const bad = { ...BUILTIN_MODULES.find((m) => m.name === 'freebsd')!, name: 'badregex' } as Record<string, unknown>;
    bad.upstream = { ...(bad.upstream as object), source: { kind: 'directory-listing', url: '{base.files}/', versionPattern: '([' } };
    const { modules, errors } = await loadModules({ builtin: [bad] });
    expect(modules.size).toBe(0);
    expect(errors[0]?.message).toMatch(/valid regular expression/);
  });

  it('applies config overrides: upstream bases and a validation merged into the module', async () => {
    const { modules } = await loadModules({ overrides: { talos: { bases: { files: 'http://127.0.0.1:9/files' }, validation: { marker: 'HELLO', timeoutSeconds: 30 } } } });
    const t = modules.get('talos')!;
    expect(t.upstream.bases.files).toBe('http://127.0.0.1:9/files');
    expect(t.upstream.bases.api).toBe('https://api.github.com/repos/siderolabs/talos');
    expect(t.validation).toMatchObject({ kind: 'kernel-boot', marker: 'HELLO', timeoutSeconds: 30, memoryMiB: 2048 });
  });

  it('reports an override that breaks a module instead of loading it', async () => {
    const { modules, errors } = await loadModules({ overrides: { talos: { bases: { files: 'ftp://nope' } } } });
    expect(modules.has('talos')).toBe(false);
    expect(errors[0]).toMatchObject({ module: 'talos' });
    expect(errors[0]?.message).toMatch(/http\(s\)/);
  });

  it('hides a module the config disables', async () => {
    const { modules } = await loadModules({ overrides: { nixos: { disabled: true } } });
    expect(modules.has('nixos')).toBe(false);
    expect(modules.has('talos')).toBe(true);
  });
});
