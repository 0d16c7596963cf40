// The job's emulated NIC: isolated when it can be, restricted (never open) when it cannot; the answer files on a
// real unix socket, only those, read-only.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareGuestNic, serveAnswerFiles, type GuestNetIsolator } from '../../../agent/fidelity/index.js';
import { InstallRequest, XepaError } from '../../../agent/protocol/index.js';

let dir = '';
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'xepa-guest-nic-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const USER_DATA = '#cloud-config\nhostname: h\n';
const req = InstallRequest.parse({
  iso: { url: 'http://example.test/a.iso', sha256: 'a'.repeat(64) },
  disks: [{ serial: 'S1' }],
  answer: { kind: 'cloud-init', files: [{ path: 'user-data', content: USER_DATA }] },
});
const nicPlan = { mode: 'user' as const, model: 'e1000e', mac: 'b4:96:91:00:00:01', reason: 'test' };

// One HTTP request over the unix socket: status and body.
function get(socketPath: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject).end();
  });
}

describe('prepareGuestNic', () => {
  it('runs the NIC in the isolator\'s namespace, serves the answer files there, and takes both down on release', async () => {
    const released: string[] = [];
    const isolator: GuestNetIsolator = { isolate: async (id) => ({ netns: `xepa-${id}`, release: async () => void released.push(id) }) };
    const r = await prepareGuestNic(nicPlan, req, dir, 'job-1', { isolator });
    expect(r.netns).toBe('xepa-job-1');
    expect(r.nic).toEqual({ model: 'e1000e', mac: 'b4:96:91:00:00:01', answerSocket: join(dir, 'answer-http.sock') });
    expect(r.notes.join('\n')).toMatch(/network namespace xepa-job-1: outbound only/);
    expect(await get(r.nic.answerSocket!, '/user-data')).toEqual({ status: 200, body: USER_DATA });
    expect(await get(r.nic.answerSocket!, '/meta-data')).toEqual({ status: 200, body: 'instance-id: xepa-job-1\n' });
    await r.release();
    expect(released).toEqual(['job-1']);
    expect(existsSync(join(dir, 'answer-http.sock'))).toBe(false);
  });

  it('restricts the NIC (no outbound at all) with a warning when isolation fails; the answer endpoint still works', async () => {
    const isolator: GuestNetIsolator = { isolate: async () => Promise.reject(new XepaError('ERR_TOOL_MISSING', 'nft is not installed on this host (package nftables)')) };
    const r = await prepareGuestNic(nicPlan, req, dir, 'job-2', { isolator });
    expect(r.netns).toBeUndefined();
    expect(r.nic.restrict).toBe(true);
    expect(r.notes).toContain('WARNING: guest network isolation failed (nft is not installed on this host (package nftables)): the installer gets no outbound network (slirp restrict=on)');
    expect((await get(r.nic.answerSocket!, '/user-data')).status).toBe(200);
    await r.release();
  });

  it('restricts the NIC with a warning when the agent has no isolator', async () => {
    const r = await prepareGuestNic(nicPlan, { ...req, answer: undefined }, dir, 'job-3', {});
    expect(r.nic).toEqual({ model: 'e1000e', mac: 'b4:96:91:00:00:01', restrict: true });
    expect(r.notes[0]).toMatch(/^WARNING: this agent cannot isolate guest networks/);
  });
});

describe('serveAnswerFiles', () => {
  it('answers only the files it was given, read-only: traversal and unknown paths 404, other methods 405', async () => {
    const s = await serveAnswerFiles([{ path: 'd/preseed.cfg', data: Buffer.from('x') }], join(dir, 'a.sock'));
    try {
      expect(await get(s.socket, '/d/preseed.cfg?v=1')).toEqual({ status: 200, body: 'x' });
      expect((await get(s.socket, '/d/preseed.cfg', 'HEAD')).status).toBe(200);
      for (const p of ['/', '/d', '/d/../d/preseed.cfg', '/%2e%2e/etc/passwd', '/etc/passwd', '/%E0%A4%A']) expect((await get(s.socket, p)).status, p).toBe(404);
      expect((await get(s.socket, '/d/preseed.cfg', 'PUT')).status).toBe(405);
      expect(s.served.get('d/preseed.cfg')).toBe(2);
    } finally {
      await s.close();
    }
  });
});
