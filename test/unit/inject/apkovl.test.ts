import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config.js';
import { ALPINE_PACKAGES, buildApkovl, openrcInitScript, type ApkovlInput } from '../../../alpine/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-apkovl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = Buffer.alloc(32, 9).toString('base64');
const input: ApkovlInput = {
  agentBundle: '// pretend agent bundle\nconsole.log("agent");\n',
  agentConfig: { agentId: 'rack4-node17', trustedKeys: [KEY] },
  sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9wZXJhdG9y operator@example'],
};

function extract(archive: Buffer, name: string): string {
  const out = join(dir, name);
  mkdirSync(out);
  const file = join(dir, `${name}.tar.gz`);
  writeFileSync(file, archive);
  execFileSync('busybox', ['tar', '-xzpf', file, '-C', out]); // Alpine's initramfs extracts with busybox tar
  return out;
}

describe('the apkovl builder', () => {
  it('lays out the agent, its config, the OpenRC service and its runlevel link with the right modes', () => {
    const root = extract(buildApkovl(input), 'layout');
    const mode = (p: string): number => statSync(join(root, p)).mode & 0o7777;
    expect(readFileSync(join(root, 'etc/init.d/xepa-agent'), 'utf8')).toBe(openrcInitScript());
    expect(mode('etc/init.d/xepa-agent')).toBe(0o755);
    expect(lstatSync(join(root, 'etc/runlevels/default/xepa-agent')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'etc/runlevels/default/xepa-agent'))).toBe('/etc/init.d/xepa-agent');
    expect(readlinkSync(join(root, 'etc/runlevels/boot/networking'))).toBe('/etc/init.d/networking');
    expect(readlinkSync(join(root, 'etc/runlevels/default/sshd'))).toBe('/etc/init.d/sshd');
    expect(readFileSync(join(root, 'usr/local/lib/xepa/xepa-agent.mjs'), 'utf8')).toBe(input.agentBundle);
    expect(mode('etc/xepa/agent.json')).toBe(0o600);
    expect(mode('etc/xepa')).toBe(0o700);
    expect(mode('root/.ssh')).toBe(0o700);
    expect(mode('root/.ssh/authorized_keys')).toBe(0o600);
    expect(statSync(join(root, 'etc/.default_boot_services')).size).toBe(0);
  });

  it('writes a config the agent itself accepts, trusting the controller key under the given id', () => {
    const root = extract(buildApkovl(input), 'config');
    const cfg = loadAgentConfig(['--config', join(root, 'etc/xepa/agent.json')]);
    expect(cfg.agentId).toBe('rack4-node17');
    expect(cfg.trustedKeys).toEqual([KEY]);
    expect(cfg.listen).toEqual({ host: '0.0.0.0', port: 7443 });
    expect(cfg.stateDir).toBe('/run/xepa');
  });

  it('keeps alpine-base in /etc/apk/world and adds the agent\'s packages (and openssh for ssh keys)', () => {
    const root = extract(buildApkovl(input), 'world');
    const world = readFileSync(join(root, 'etc/apk/world'), 'utf8').trim().split('\n');
    expect(world).toContain('alpine-base');
    for (const p of ALPINE_PACKAGES) expect(world).toContain(p);
    expect(world).toContain('openssh');
    expect([...world].sort()).toEqual(world);
  });

  it('is byte-for-byte reproducible, and any input change changes the bytes', () => {
    const a = buildApkovl(input);
    const b = buildApkovl({ ...input, agentConfig: { ...input.agentConfig } });
    expect(a.equals(b)).toBe(true);
    const other = buildApkovl({ ...input, agentConfig: { ...input.agentConfig, agentId: 'rack4-node18' } });
    expect(other.equals(a)).toBe(false);
  });

  it('leaves networking and sshd alone when asked to', () => {
    const root = extract(buildApkovl({ ...input, network: 'none', sshAuthorizedKeys: [] }), 'bare');
    expect(() => lstatSync(join(root, 'etc/network/interfaces'))).toThrow();
    expect(() => lstatSync(join(root, 'etc/runlevels/default/sshd'))).toThrow();
    expect(readFileSync(join(root, 'etc/apk/world'), 'utf8')).not.toContain('openssh');
  });
});
