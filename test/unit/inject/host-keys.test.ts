import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKnownHosts, decideHostKey, knownHostsName, parseKnownHosts, recordHostKey, sshKeyFingerprint, type HostKeyPolicy } from '../../../controller/inject/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-hostkeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Real host keys made by ssh-keygen, and the blobs ssh2 would hand the verifier.
function makeKey(name: string): { blob: Buffer; pub: string; fingerprint: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  const pub = readFileSync(`${path}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { blob: Buffer.from(pub.split(' ')[1]!, 'base64'), pub, fingerprint };
}

let a: ReturnType<typeof makeKey>;
let b: ReturnType<typeof makeKey>;
beforeAll(() => {
  a = makeKey('a');
  b = makeKey('b');
});

const policy = (over: Partial<HostKeyPolicy>): HostKeyPolicy => ({ fingerprints: [], knownHostsFiles: [], acceptNew: false, recordFile: join(dir, 'recorded'), ...over });

describe('host key checks', () => {
  it('computes the fingerprint ssh-keygen -l prints', () => {
    expect(sshKeyFingerprint(a.blob)).toBe(a.fingerprint);
  });

  it('names non-22 ports as [host]:port like OpenSSH', () => {
    expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('matches plain, wildcard and ssh-keygen -H hashed entries, and calls another key for the host a mismatch', () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.1]:2222 ${a.pub.split(' ').slice(0, 2).join(' ')}\n*.rescue.example ${a.pub.split(' ').slice(0, 2).join(' ')}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const lines = parseKnownHosts(readFileSync(file, 'utf8'));
    expect(lines[0]!.hosts.startsWith('|1|')).toBe(true);
    expect(checkKnownHosts(lines, '[127.0.0.1]:2222', a.blob)).toBe('match');
    expect(checkKnownHosts(lines, '[127.0.0.1]:2222', b.blob)).toBe('mismatch');
    expect(checkKnownHosts(lines, 'node1.rescue.example', a.blob)).toBe('match');
    expect(checkKnownHosts(lines, '127.0.0.1', a.blob)).toBe('unknown');
  });

  it('refuses a key marked @revoked even for another host name', () => {
    const lines = parseKnownHosts(`@revoked * ${a.pub}\nhost1 ${a.pub}\n`);
    expect(checkKnownHosts(lines, 'host1', a.blob)).toBe('revoked');
  });

  it('accepts only the --host-key fingerprint when one is given, whatever known_hosts says', async () => {
    const known = join(dir, 'kh-fp');
    writeFileSync(known, `h ${a.pub}\n`);
    const ok = await decideHostKey(policy({ fingerprints: [a.fingerprint.replace('SHA256:', 'sha256:')] }), 'h', 22, a.blob);
    expect(ok).toMatchObject({ ok: true, how: 'fingerprint' });
    const refused = await decideHostKey(policy({ fingerprints: [b.fingerprint], knownHostsFiles: [known] }), 'h', 22, a.blob);
    expect(refused.ok).toBe(false);
    expect(refused.reason).toContain(b.fingerprint);
  });

  it('refuses an unknown key unless first-use acceptance is asked for, and then records it for next time', async () => {
    const p = policy({ knownHostsFiles: [join(dir, 'kh-tofu')], recordFile: join(dir, 'kh-tofu') });
    const refused = await decideHostKey(p, '192.0.2.7', 22, a.blob);
    expect(refused.ok).toBe(false);
    expect(refused.reason).toContain('--accept-new-host-key');
    const accepted = await decideHostKey({ ...p, acceptNew: true }, '192.0.2.7', 22, a.blob);
    expect(accepted).toMatchObject({ ok: true, how: 'accepted-new' });
    await recordHostKey(p, accepted.recordLine!);
    expect(await decideHostKey(p, '192.0.2.7', 22, a.blob)).toMatchObject({ ok: true, how: 'known_hosts' });
  });

  it('never accepts a changed key on first-use terms', async () => {
    const known = join(dir, 'kh-changed');
    writeFileSync(known, `192.0.2.8 ${a.pub}\n`);
    const d = await decideHostKey(policy({ knownHostsFiles: [known], acceptNew: true }), '192.0.2.8', 22, b.blob);
    expect(d.ok).toBe(false);
    expect(d.reason).toContain('differs');
  });
});
