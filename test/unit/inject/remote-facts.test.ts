import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FACTS_SCRIPT, REMOTE_PATH, checkFacts, parseFacts, type RemoteFacts } from '../../../controller/inject/index.js';
import { codeOf } from '../../support/error-code.js';

const debian: RemoteFacts = { uid: 0, osId: 'debian', osLike: '', osName: 'Debian GNU/Linux 12 (bookworm)', packageManager: 'apt', init: 'systemd', hostname: 'rescue' };


describe('rescue system facts', () => {
  it('the probe script runs under dash and reports this Debian machine', () => {
    const out = execFileSync('dash', ['-c', `${REMOTE_PATH}\n${FACTS_SCRIPT}`], { encoding: 'utf8' });
    const f = parseFacts(out);
    expect(f.uid).toBe(process.getuid!());
    expect(f.osId).toBe('debian');
    expect(f.packageManager).toBe('apt');
    expect(f.nodeVersion).toMatch(/^v\d+\./);
    expect(f.freeBytes).toBeGreaterThan(0);
  });

  it('refuses a non-root login with ERR_NOT_ROOT', () => {
    expect(codeOf(() => checkFacts({ ...debian, uid: 1000 }, 'ssh://admin@h'))).toBe('ERR_NOT_ROOT');
  });

  it('refuses another distribution with ERR_UNSUPPORTED_DISTRO', () => {
    expect(codeOf(() => checkFacts({ ...debian, osId: 'rocky', osLike: 'rhel centos fedora', packageManager: 'none', otherPackageManager: 'dnf' }, 'h'))).toBe(
      'ERR_UNSUPPORTED_DISTRO',
    );
  });

  it('refuses a Debian without apt with ERR_NO_PACKAGE_MANAGER', () => {
    expect(codeOf(() => checkFacts({ ...debian, packageManager: 'none' }, 'h'))).toBe('ERR_NO_PACKAGE_MANAGER');
  });

  it('accepts Alpine with apk and Ubuntu with apt', () => {
    expect(codeOf(() => checkFacts({ ...debian, osId: 'alpine', packageManager: 'apk', init: 'openrc' }, 'h'))).toBeUndefined();
    expect(codeOf(() => checkFacts({ ...debian, osId: 'ubuntu', osLike: 'debian' }, 'h'))).toBeUndefined();
  });

  it('parses the init system and free space from the script\'s lines', () => {
    const f = parseFacts('uid=0\nos_id=alpine\npm=apk\ninit=openrc\nnode=v20.15.1\nfree=1000 4096\nhostname=rescue\n');
    expect(f).toMatchObject({ packageManager: 'apk', init: 'openrc', nodeVersion: 'v20.15.1', freeBytes: 4_096_000, hostname: 'rescue' });
    expect(parseFacts('uid=0\npm=apt\ninit=none\nfree=\n').freeBytes).toBeUndefined();
  });
});
