import { Socket, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { finishParamsOf, renderFinishReport } from '../../../controller/cli/commands/finish.js';
import { checkFirstBoot, firstBootTarget } from '../../../controller/cli/commands/finish-check.js';
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
    expect(codeOf(() => finishParamsOf('j', { 'check-port': '22' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => finishParamsOf('j', { efi: 'maybe' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => finishParamsOf('j', { network: 'static' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => finishParamsOf('j', { 'boot-entry': 'pxe' }))).toBe('ERR_BAD_REQUEST');
  });

  it('passes the network mode and the boot-entry policy to the agent', () => {
    expect(finishParamsOf('j', { network: 'dhcp', 'boot-entry': 'fallback' })).toEqual({ job: 'j', reboot: false, network: 'dhcp', bootEntry: 'fallback' });
  });

  it('checks the server\'s own address on port 22 for an SSH banner by default, or what it is told', () => {
    const report = { job: 'j', ok: true, rebooting: true, steps: [{ step: 'network' as const, status: 'ok' as const, message: '', detail: { rescue: { iface: 'eth0', mac: 'a0:36:9f:12:34:56', ipv4: [{ address: '203.0.113.10', prefix: 32 }], ipv6: [], dns: [], search: [], notes: [] } } }] };
    expect(firstBootTarget(report, { agentHost: '203.0.113.10' })).toEqual({ host: '203.0.113.10', port: 22, banner: 'SSH-', why: 'the server\'s own address, as the rescue system had it' });
    expect(firstBootTarget(report, { agentHost: '127.0.0.1', port: 2222 })).toMatchObject({ host: '127.0.0.1', port: 2222, why: expect.stringMatching(/the rescue system itself had 203\.0\.113\.10/) });
    expect(firstBootTarget(report, { agentHost: '127.0.0.1', host: '203.0.113.10', banner: 'SSH-2.0' })).toEqual({ host: '203.0.113.10', port: 22, banner: 'SSH-2.0', why: '--check-host' });
  });

  it('lists every file changed in the installed system with its digests', () => {
    const text = renderFinishReport({ job: 'j', ok: true, rebooting: false, steps: [{ step: 'network', status: 'ok', message: 'ifupdown', detail: { changes: [
      { path: '/etc/network/interfaces.d/xepa-metal', action: 'created', mode: '0644', bytes: 300, sha256: 'a'.repeat(64), why: 'ifupdown: "metal0" configured' },
      { path: '/etc/resolv.conf', action: 'replaced', mode: '0644', bytes: 40, sha256: 'b'.repeat(64), previousSha256: 'c'.repeat(64), why: 'resolvers' },
    ] } }] });
    expect(text).toContain(`changed in the installed system:\n  created   /etc/network/interfaces.d/xepa-metal (0644, 300 bytes, sha256 ${'a'.repeat(64)}): ifupdown: "metal0" configured\n  replaced  /etc/resolv.conf (0644, 40 bytes, sha256 ${'b'.repeat(64)}, was ${'c'.repeat(64)}): resolvers`);
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
      expect(r).toMatchObject({ ok: true, outcome: 'connected', seen: { firstLine: 'SSH-2.0-OpenSSH_9.2p1 Debian', attempts: 1 } });
      expect(r.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${ssh.port} answers with "SSH-2\\.0-OpenSSH_9\\.2p1 Debian" \\d+ s after finish \\(the agent was gone after \\d+ s\\): the installed system is up$`));
    } finally {
      ssh.server.close();
    }
  });

  it('fails when the agent still answers: the rescue system did not reboot', async () => {
    const agent = await listen(() => undefined);
    let t = 0;
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: agent.port, port: 22, timeoutMs: 10_000 }, { sleep: async () => undefined, now: () => (t += 6000) });
      expect(r).toMatchObject({ ok: false, outcome: 'agent-still-up' });
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
      expect(r).toMatchObject({ ok: false, outcome: 'other-service' });
      expect(r.message).toMatch(/lacks "SSH-"/);
    } finally {
      other.server.close();
    }
  });

  it('reports a refused port with the attempts made when nothing ever listens there', async () => {
    const port = await closedPort();
    let t = 0;
    const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: await closedPort(), port, timeoutMs: 30_000 }, { sleep: async () => undefined, now: () => (t += 4000) });
    expect(r).toMatchObject({ ok: false, outcome: 'refused', seen: { last: expect.stringMatching(/ECONNREFUSED/) } });
    expect(r.seen.attempts).toBeGreaterThan(1);
    expect(r.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED: up, but nothing listens\\) within 30 s of the reboot, ${r.seen.attempts} attempt\\(s\\)`));
  });

  it('says after how long the port answered once the installed system starts listening (refused before)', async () => {
    const port = await closedPort();
    let t = 0;
    let sleeps = 0;
    let server: Server | undefined;
    // the clock advances 3 s per sleep; the "installed system" starts listening on the port at the third one
    const sleep = async (): Promise<void> => {
      t += 3000;
      if (++sleeps === 3) server = await new Promise<Server>((res) => { const s = createServer((c) => c.end()); s.listen(port, '127.0.0.1', () => res(s)); });
    };
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: await closedPort(), port, timeoutMs: 60_000 }, { sleep, now: () => t });
      expect(r).toMatchObject({ ok: true, outcome: 'connected', seen: { answeredAfterMs: 9000, attempts: 4, last: expect.stringMatching(/ECONNREFUSED/) } });
      expect(r.message).toBe(`127.0.0.1:${port} answers 9 s after finish (the agent was gone after 0 s): the installed system is up`);
    } finally {
      server?.close();
    }
  });

  it('times out on a port that accepts but never sends the banner, and on a connection that never opens', async () => {
    const silent = await listen(() => undefined);
    let t = 0;
    try {
      const r = await checkFirstBoot({ host: '127.0.0.1', agentPort: await closedPort(), port: silent.port, banner: 'SSH-', timeoutMs: 10_000 }, { sleep: async () => undefined, now: () => (t += 6000), attemptTimeoutMs: 200 });
      expect(r).toMatchObject({ ok: false, outcome: 'timed-out', seen: { last: 'accepts connections but sent no first line with "SSH-"' } });
    } finally {
      silent.server.close();
    }
    // a SYN nobody answers (a filtered port): the socket never connects; the agent's port is a real closed one
    const agentPort = await closedPort();
    const connect = (p: number, h: string): Socket => (p === agentPort ? new Socket().connect(p, h) : new Socket());
    t = 0;
    const r = await checkFirstBoot({ host: '127.0.0.1', agentPort, port: 22, timeoutMs: 10_000 }, { connect, sleep: async () => undefined, now: () => (t += 6000), attemptTimeoutMs: 200 });
    expect(r).toMatchObject({ ok: false, outcome: 'timed-out', seen: { last: 'did not answer (connection timed out)' } });
  });
});
