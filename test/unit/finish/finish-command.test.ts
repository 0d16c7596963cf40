import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { finishParamsOf, renderFinishReport } from '../../../controller/cli/commands/finish.js';
import { checkFirstBoot } from '../../../controller/cli/commands/finish-check.js';
import { applyFidelityOptions } from '../../../controller/cli/fidelity-options.js';
import { InstallRequest } from '../../../agent/protocol/index.js';
import { codeOf } from '../../support/error-code.js';

const listen = (onConn: (s: import('node:net').Socket) => void): Promise<{ port: number; server: Server }> =>
  new Promise((resolve) => {
    const server = createServer(onConn);
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
const closedPort = async (): Promise<number> => {
  const { port, server } = await listen(() => undefined);
  await new Promise((r) => server.close(r));
  return port;
};

describe('xepa finish options', () => {
  it('never reboots unless --reboot is given', () => {
    expect(finishParamsOf('job-1', {})).toEqual({ job: 'job-1', reboot: false });
    expect(finishParamsOf('job-1', { reboot: true, 'boot-order': 'keep', 'check-banner': 'login:', 'banner-timeout': '60' }))
      .toEqual({ job: 'job-1', reboot: true, bootOrder: 'keep', banner: 'login:', bannerTimeoutMs: 60_000 });
  });

  it('refuses a TCP check without a reboot, and unknown values', () => {
    expect(codeOf(() => finishParamsOf('j', { 'check-tcp': '22' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => finishParamsOf('j', { efi: 'maybe' }))).toBe('ERR_BAD_REQUEST');
  });

  it('renders one line per step with its result', () => {
    const text = renderFinishReport({ job: 'j', ok: false, rebooting: false, steps: [{ step: 'efi', status: 'fail', message: 'no ESP' }] });
    expect(text).toMatch(/finish j: FAILED/);
    expect(text).toMatch(/efi +FAIL +no ESP/);
  });
});

describe('install options for fidelity', () => {
  const base = { iso: { url: 'https://m/a.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/sda' }] };
  it('reads answer files (NAME=PATH renames, binary goes base64) and the key script into a valid request', async () => {
    const files: Record<string, Buffer> = { '/tmp/ud.yaml': Buffer.from('#cloud-config\n'), '/tmp/blob': Buffer.from([0xff, 0xfe]), '/tmp/keys.json': Buffer.from('[{"waitMs":3000},{"keys":["ret"]}]') };
    const req = await applyFidelityOptions(base, { 'answer-kind': 'cloud-init', 'answer-file': ['user-data=/tmp/ud.yaml', '/tmp/blob'], keys: '@/tmp/keys.json', tpm: 'on', 'vm-nic': 'none' }, async (p) => files[p]!);
    expect(req.answer).toEqual({ kind: 'cloud-init', files: [{ path: 'user-data', content: '#cloud-config\n' }, { path: 'blob', content: '//4=', encoding: 'base64' }] });
    expect(req.keys).toEqual([{ waitMs: 3000 }, { keys: ['ret'] }]);
    expect(req.vm).toEqual({ tpm: 'on', nic: 'none' });
    expect(InstallRequest.safeParse(req).success).toBe(true);
  });

  it('names the file it cannot read and refuses a bad key script', async () => {
    await expect(applyFidelityOptions(base, { 'answer-file': ['/nope'] }, async () => Promise.reject(new Error('ENOENT')))).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST' });
    await expect(applyFidelityOptions(base, { keys: '[{"press":"x"}]' })).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST' });
  });
});

describe('the first-boot TCP check', () => {
  it('passes once the agent is gone and the installed system\'s service answers with its banner', async () => {
    const ssh = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2p1 Debian\r\n'));
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: await closedPort(), port: ssh.port, banner: 'SSH-2.0', timeoutMs: 20_000 }, { sleep: async () => undefined });
      expect(r).toEqual({ ok: true, message: `127.0.0.1:${ssh.port} answers with "SSH-2.0-OpenSSH_9.2p1 Debian": the installed system is up` });
    } finally {
      ssh.server.close();
    }
  });

  it('fails when the agent still answers: the rescue system did not reboot', async () => {
    const agent = await listen(() => undefined);
    let t = 0;
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: agent.port, port: 22, timeoutMs: 10_000 }, { sleep: async () => undefined, now: () => (t += 6000) });
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/still answers/);
    } finally {
      agent.server.close();
    }
  });

  it('fails when the port answers with another banner until the time is up', async () => {
    const other = await listen((s) => s.end('HTTP/1.0 400 Bad Request\r\n'));
    let t = 0;
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: await closedPort(), port: other.port, banner: 'SSH-', timeoutMs: 10_000 }, { sleep: async () => undefined, now: () => (t += 3000) });
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/lacks "SSH-"/);
    } finally {
      other.server.close();
    }
  });
});
