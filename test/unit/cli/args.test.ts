import { describe, expect, it } from 'vitest';
import { agentUrl, fingerprintOf, mibOf } from '../../../controller/cli/args.js';
import { diskSelectorOf, installRequestOf } from '../../../controller/cli/commands/install.js';
import { runCli } from '../../../controller/cli/main.js';
import { InstallRequest } from '../../../agent/protocol/index.js';
import { captureOutput } from '../../support/capture.js';

describe('CLI arguments', () => {
  it('turns HOST forms into the agent URL with the default port', () => {
    expect(agentUrl('rescue.example')).toBe('wss://rescue.example:7443');
    expect(agentUrl('10.1.2.3:9443')).toBe('wss://10.1.2.3:9443');
    expect(agentUrl('[2001:db8::1]:7443')).toBe('wss://[2001:db8::1]:7443');
    expect(agentUrl('wss://a.example:1/')).toBe('wss://a.example:1');
  });

  it('refuses plain http and a missing host', () => {
    expect(() => agentUrl('http://a.example')).toThrowError(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
    expect(() => agentUrl(undefined)).toThrowError(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
  });

  it('requires a fingerprint and never falls back to trusting the first certificate', () => {
    expect(() => fingerprintOf(undefined, {})).toThrowError(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
    expect(fingerprintOf(undefined, { XEPA_FINGERPRINT: 'AB' })).toBe('AB');
  });

  it('parses sizes in MiB and GiB', () => {
    expect(mibOf('512')).toBe(512);
    expect(mibOf('4G')).toBe(4096);
    expect(mibOf('2GiB')).toBe(2048);
    expect(() => mibOf('lots')).toThrowError(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
  });

  it('names disks by serial, WWN or /dev path, and nothing else', () => {
    expect(diskSelectorOf('serial=S3X9NX0M')).toEqual({ serial: 'S3X9NX0M' });
    expect(diskSelectorOf('wwn=0x5002538e40a0')).toEqual({ wwn: '0x5002538e40a0' });
    expect(diskSelectorOf('/dev/nvme0n1')).toEqual({ path: '/dev/nvme0n1' });
    expect(() => diskSelectorOf('sda')).toThrowError(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
  });

  it('builds an install request that the protocol schema accepts', () => {
    const req = installRequestOf({ 'iso-url': 'https://mirror.example/x.iso', sha256: 'AB'.repeat(32), disk: ['serial=S1', '/dev/sdb'], memory: '4G', firmware: 'uefi' });
    const parsed = InstallRequest.parse(req);
    expect(parsed.iso.sha256).toBe('ab'.repeat(32));
    expect(parsed.vm.memoryMiB).toBe(4096);
    expect(parsed.disks).toHaveLength(2);
  });

  it('passes --end-on to vm.endOn and refuses any other value', () => {
    const base = { 'iso-url': 'https://mirror.example/x.iso', sha256: 'ab'.repeat(32), disk: ['/dev/sdb'] };
    expect(InstallRequest.parse(installRequestOf({ ...base, 'end-on': 'reboot' })).vm.endOn).toBe('reboot');
    expect(InstallRequest.parse(installRequestOf(base)).vm.endOn).toBe('poweroff');
    expect(() => installRequestOf({ ...base, 'end-on': 'halt' })).toThrowError(/--end-on halt: use poweroff or reboot/);
  });

  it('passes --deadline to vm.deadlineSeconds (h, m, s or bare seconds), defaults to 4 h, and refuses what is not a duration', () => {
    const base = { 'iso-url': 'https://mirror.example/x.iso', sha256: 'ab'.repeat(32), disk: ['/dev/sdb'] };
    const deadline = (d?: string): number => InstallRequest.parse(installRequestOf(d === undefined ? base : { ...base, deadline: d })).vm.deadlineSeconds;
    expect([deadline('2h'), deadline('90m'), deadline('600s'), deadline('45'), deadline()]).toEqual([7200, 5400, 600, 45, 14400]);
    for (const bad of ['soon', '1d', '-5m', '4s', '200h']) expect(() => installRequestOf({ ...base, deadline: bad })).toThrowError(/--deadline .*: give a duration from 5s to 168h/);
  });

  it('says which option is missing', () => {
    expect(() => installRequestOf({ sha256: 'a'.repeat(64), disk: ['/dev/sdb'] })).toThrowError(/--iso-url is required/);
    expect(() => installRequestOf({ 'iso-url': 'http://x/y.iso', sha256: 'a'.repeat(64) })).toThrowError(/at least one --disk/);
  });

  it('exits 2 with the usage for an unknown verb or flag', async () => {
    const o = captureOutput();
    expect(await runCli(['frobnicate'], o)).toBe(2);
    expect(o.stderr()).toContain('unknown verb "frobnicate"');
    const o2 = captureOutput();
    expect(await runCli(['install', 'h', '--bogus'], o2)).toBe(2);
    expect(o2.stderr()).toMatch(/ERR_BAD_REQUEST: .*bogus/);
  });
});
