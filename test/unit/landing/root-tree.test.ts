import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RootTree, sha256 } from '../../../agent/landing/index.js';
import { fakeRoot, type FakeRoot } from './fake-root.js';

let r: FakeRoot;
let outside = '';
afterEach(async () => {
  await rm(r.root, { recursive: true, force: true });
  if (outside) await rm(outside, { recursive: true, force: true });
});

describe('the installed root tree', () => {
  it('resolves absolute and relative symlinks inside the installed system, never on the rescue system', async () => {
    r = await fakeRoot();
    await r.file('usr/lib/os-release', 'ID=debian\n');
    await r.link('etc/os-release', '/usr/lib/os-release');
    await r.link('etc/passwd-link', '/etc/passwd'); // the host has /etc/passwd; the installed tree does not
    await r.link('etc/up', '../../../../../../usr/lib/os-release');
    const t = new RootTree(r.root);
    expect(await t.readText('etc/os-release')).toBe('ID=debian\n');
    expect(await t.readText('etc/passwd-link')).toBeUndefined();
    expect(await t.readText('etc/up')).toBe('ID=debian\n'); // .. stops at the installed system's /
    expect(await t.resolve('etc/passwd-link')).toBe(join(r.root, 'etc/passwd'));
  });

  it('writes through a directory link into the installed tree, and replaces a link at the file name instead of writing through it', async () => {
    r = await fakeRoot();
    outside = await mkdtemp(join(tmpdir(), 'xepa-outside-'));
    await writeFile(join(outside, 'victim'), 'keep me');
    await r.file('etc/real-network/.keep');
    await r.link('etc/systemd/network', '/etc/real-network'); // absolute: the installed system's /etc
    await r.link('etc/resolv.conf', join(outside, 'victim')); // would reach the host if followed
    const t = new RootTree(r.root);
    const a = await t.writeFile('etc/systemd/network/05-x.network', 'A\n', 0o644, 'test');
    expect(a).toMatchObject({ path: '/etc/systemd/network/05-x.network', action: 'created', mode: '0644', bytes: 2, sha256: sha256('A\n') });
    expect(await readFile(join(r.root, 'etc/real-network/05-x.network'), 'utf8')).toBe('A\n');
    const b = await t.writeFile('etc/resolv.conf', 'nameserver 192.0.2.53\n', 0o644, 'test');
    expect(b.action).toBe('replaced');
    expect(b.previousSha256).toBeUndefined(); // a link was there, not a file
    expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('keep me');
    expect((await lstat(join(r.root, 'etc/resolv.conf'))).isFile()).toBe(true);
  });

  it('reports an identical file as unchanged, and a changed one with both digests and its mode', async () => {
    r = await fakeRoot();
    await r.file('etc/netplan/90-x.yaml', 'old\n');
    const t = new RootTree(r.root);
    const c = await t.writeFile('etc/netplan/90-x.yaml', 'new\n', 0o600, 'test');
    expect(c).toMatchObject({ action: 'replaced', previousSha256: sha256('old\n'), sha256: sha256('new\n'), mode: '0600' });
    expect((await stat(join(r.root, 'etc/netplan/90-x.yaml'))).mode & 0o777).toBe(0o600);
    expect((await t.writeFile('etc/netplan/90-x.yaml', 'new\n', 0o600, 'test')).action).toBe('unchanged');
  });

  it('refuses link loops', async () => {
    r = await fakeRoot();
    await r.link('etc/a', '/etc/b');
    await r.link('etc/b', '/etc/a');
    await expect(new RootTree(r.root).resolve('etc/a/x')).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    expect(await readlink(join(r.root, 'etc/a'))).toBe('/etc/b');
  });
});
