import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENROL_TOKEN } from '../../../agent/protocol/index.js';
import { addRescueHost, isPending, readRescueHosts, redeemToken, removeRescueHost } from '../../../controller/rescue/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-rescue-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const netboot = { kernelUrl: 'http://192.0.2.1/vmlinuz-lts', initrdUrl: 'http://192.0.2.1/initramfs-lts' };
const T0 = new Date('2026-12-07T10:00:00Z');
const later = (s: number): Date => new Date(T0.getTime() + s * 1000);

describe('rescue hosts and their one-time enrolment tokens', () => {
  it('mints a fresh 256-bit token per registration in a 0600 file; re-adding a host replaces its token', async () => {
    const file = join(dir, 'a.json');
    const a = await addRescueHost(file, { host: 'srv-1', agentId: 'xepa-srv-1', ttlSeconds: 600, netboot, now: T0 });
    const b = await addRescueHost(file, { host: 'srv-1', agentId: 'xepa-srv-1', ttlSeconds: 600, netboot, now: T0 });
    expect(a.token).toMatch(ENROL_TOKEN);
    expect(b.token).not.toBe(a.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const hosts = await readRescueHosts(file);
    expect(hosts.map((h) => [h.host, h.expiresAt, h.enrolledAt])).toEqual([['srv-1', later(600).toISOString(), null]]);
    await expect(redeemToken(file, a.token, 'xepa-srv-1', later(1))).rejects.toMatchObject({ code: 'ERR_FORBIDDEN', message: 'unknown enrolment token' });
    expect((await redeemToken(file, b.token, 'xepa-srv-1', later(1))).enrolledAt).toBe(later(1).toISOString());
  });

  it('spends a token exactly once, refuses it after expiry or for another agent id, and says which', async () => {
    const file = join(dir, 'b.json');
    const { token } = await addRescueHost(file, { host: 'srv-2', agentId: 'xepa-srv-2', ttlSeconds: 60, netboot, now: T0 });
    const { token: late } = await addRescueHost(file, { host: 'srv-3', agentId: 'xepa-srv-3', ttlSeconds: 60, netboot, now: T0 });
    await expect(redeemToken(file, token, 'xepa-other', later(5))).rejects.toThrow(/issued for agent xepa-srv-2, not xepa-other/);
    const [first, second] = await Promise.allSettled([redeemToken(file, token, 'xepa-srv-2', later(5)), redeemToken(file, token, 'xepa-srv-2', later(6))]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && String(second.reason)).toMatch(/was spent at .*xepa rescue add srv-2/);
    await expect(redeemToken(file, late, 'xepa-srv-3', later(60))).rejects.toThrow(/expired at/);
    const byHost = new Map((await readRescueHosts(file)).map((h) => [h.host, h]));
    expect(isPending(byHost.get('srv-2')!, later(5))).toBe(false);
    expect(isPending(byHost.get('srv-3')!, later(59))).toBe(true);
    expect(isPending(byHost.get('srv-3')!, later(60))).toBe(false);
  });

  it('removes a host, and reports a damaged file instead of resetting it', async () => {
    const file = join(dir, 'c.json');
    await addRescueHost(file, { host: 'srv-4', agentId: 'xepa-srv-4', ttlSeconds: 60, netboot, now: T0 });
    expect(await removeRescueHost(file, 'srv-4')).toBe(true);
    expect(await removeRescueHost(file, 'srv-4')).toBe(false);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"version":1,"hosts":[{"host":"x"}]}');
    await expect(readRescueHosts(file)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});
