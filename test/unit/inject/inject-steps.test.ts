import { describe, expect, it } from 'vitest';
import { DEBIAN_PACKAGES } from '../../../alpine/index.js';
import { injectAgent, type RemoteShell } from '../../../controller/inject/index.js';
import { codeOfAsync } from '../../support/error-code.js';

// A rescue system reduced to answers: each script is matched by a pattern; every script run is kept.
type Answer = { code?: number; stdout?: string; stderr?: string };
function scriptedShell(answers: [RegExp, (stdin?: Buffer | string) => Answer | string][]): RemoteShell & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    async exec(script, opts = {}) {
      ran.push(script);
      const hit = answers.find(([re]) => re.test(script));
      if (!hit) return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
      const a = hit[1](opts.stdin);
      const r: Answer = typeof a === 'string' ? { stdout: a } : a;
      return { code: r.code ?? 0, stdout: Buffer.from(r.stdout ?? ''), stderr: r.stderr ?? '' };
    },
    close() {},
  };
}

const facts = (over = ''): string => `uid=0\nos_id=debian\nos_name=Debian 12\npm=apt\ninit=none\nnode=v18.19.0\nfree=1000000 4096\nhostname=rescue\n${over}`;
const opts = { where: 'ssh://root@h', bundle: Buffer.from('bundle'), controllerKey: Buffer.alloc(32, 1).toString('base64') };


describe('injection steps', () => {
  it('installs only the missing packages with apt-get', async () => {
    let installed = false;
    const shell = scriptedShell([
      [/id -u/, () => facts()],
      [/dpkg-query/, () => (installed ? DEBIAN_PACKAGES : DEBIAN_PACKAGES.filter((p) => p !== 'swtpm' && p !== 'ovmf')).join('\n')],
      [/apt-get install/, () => ((installed = true), '')],
      [/agent\.json'; else exit 3/, () => ({ code: 3 })],
      [/node - /, () => ({ code: 3, stdout: '{"error":"ECONNREFUSED","file":null}' })],
    ]);
    // The fake agent never answers: the run stops at the health step, after the packages.
    expect(await codeOfAsync(injectAgent(shell, { ...opts, healthTimeoutMs: 10 }))).toBe('ERR_TIMEOUT');
    const install = shell.ran.find((s) => s.includes('apt-get install'))!;
    expect(install).toMatch(/--no-install-recommends .*'ovmf' 'swtpm'$/);
    expect(install).not.toContain("'nodejs'");
  });

  it('with package installation off, a missing package is ERR_CONFIG and nothing is uploaded', async () => {
    const shell = scriptedShell([
      [/id -u/, () => facts()],
      [/dpkg-query/, () => 'nodejs\n'],
    ]);
    expect(await codeOfAsync(injectAgent(shell, { ...opts, packages: 'check' }))).toBe('ERR_CONFIG');
    expect(shell.ran.some((s) => s.includes('cat >'))).toBe(false);
  });

  it('a bundle that does not fit is ERR_NO_SPACE before anything is written', async () => {
    const shell = scriptedShell([[/id -u/, () => facts().replace('free=1000000 4096', 'free=100 4096')]]);
    expect(await codeOfAsync(injectAgent(shell, opts))).toBe('ERR_NO_SPACE');
    expect(shell.ran).toHaveLength(1);
  });

  it('a node older than 18 is ERR_UNSUPPORTED_DISTRO', async () => {
    const shell = scriptedShell([
      [/id -u/, () => facts().replace('node=v18.19.0', 'node=v12.22.12')],
      [/dpkg-query/, () => DEBIAN_PACKAGES.join('\n')],
    ]);
    expect(await codeOfAsync(injectAgent(shell, opts))).toBe('ERR_UNSUPPORTED_DISTRO');
  });

  it('a failed apt-get with little space left is ERR_NO_SPACE', async () => {
    const shell = scriptedShell([
      [/id -u/, () => facts().replace('free=1000000 4096', 'free=20000 4096')],
      [/dpkg-query/, () => 'nodejs\n'],
      [/apt-get install/, () => ({ code: 100, stderr: 'E: You don\'t have enough free space in /var/cache/apt/archives/.' })],
    ]);
    expect(await codeOfAsync(injectAgent(shell, opts))).toBe('ERR_NO_SPACE');
  });
});
