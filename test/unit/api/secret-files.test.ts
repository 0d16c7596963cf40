import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TLS_KEY_FILE, createPrivateFile, ensureTlsIdentity, writePrivateFile } from '../../../agent/api/index.js';

// Secret files are created exclusively (O_EXCL) with mode 0600: a file or symlink planted at a name the agent
// writes is never written through, whatever the umask.
const root = mkdtempSync(join(tmpdir(), 'xepa-secret-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(root, `s${n++}-`));
  umask = process.umask(0); // the loosest umask: modes must come from the code, not from the environment
});
afterEach(() => void process.umask(umask));
const mode = (p: string): number => statSync(p).mode & 0o777;
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: { code?: string }) => e.code);

describe('the TLS identity', () => {
  it('creates the key mode 0600 under umask 0 and leaves no temporary file', async () => {
    await ensureTlsIdentity(dir);
    expect(mode(join(dir, TLS_KEY_FILE))).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['tls-cert.pem', 'tls-key.pem']);
  });

  it('never writes the key through a symlink planted at a temporary name', async () => {
    const victim = join(root, `victim-${n}`);
    writeFileSync(victim, 'public data\n', { mode: 0o644 });
    // The names a predictable writer would use next to the key (the old `<file>.<pid>.tmp` among them).
    for (const f of [TLS_KEY_FILE, 'tls-cert.pem']) symlinkSync(victim, join(dir, `${f}.${process.pid}.tmp`));
    await ensureTlsIdentity(dir);
    expect(readFileSync(victim, 'utf8')).toBe('public data\n');
    expect(lstatSync(join(dir, TLS_KEY_FILE)).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, TLS_KEY_FILE), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });

  it('refuses to start (ERR_CONFIG) when a dangling symlink sits at the key name, and creates nothing through it', async () => {
    const target = join(root, `planted-${n}`);
    symlinkSync(target, join(dir, TLS_KEY_FILE));
    await expect(ensureTlsIdentity(dir)).rejects.toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(join(dir, TLS_KEY_FILE)) });
    expect(existsSync(target)).toBe(false);
  });
});

describe('private files', () => {
  it('createPrivateFile refuses an existing name (EEXIST) and leaves it as it was', async () => {
    const p = join(dir, 'agent-id');
    writeFileSync(p, 'theirs', { mode: 0o644 });
    expect(await codeOf(createPrivateFile(p, 'ours'))).toBe('EEXIST');
    expect(readFileSync(p, 'utf8')).toBe('theirs');
  });

  it('writePrivateFile replaces a file atomically with a 0600 one, and replaces a symlink rather than following it', async () => {
    const p = join(dir, 'secret');
    writeFileSync(p, 'old', { mode: 0o644 });
    await writePrivateFile(p, 'new');
    expect([readFileSync(p, 'utf8'), mode(p)]).toEqual(['new', 0o600]);
    const victim = join(root, `victim2-${n}`);
    writeFileSync(victim, 'keep');
    const link = join(dir, 'linked');
    symlinkSync(victim, link);
    await writePrivateFile(link, 'secret');
    expect(readFileSync(victim, 'utf8')).toBe('keep');
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
