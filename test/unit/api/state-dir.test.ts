import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStateDir } from '../../../agent/api/index.js';

// The agent refuses a state directory another user can write, checked on real directories (the tests run as
// root, so chown to uid 65534 stands for "another user").
const root = mkdtempSync(join(tmpdir(), 'xepa-statedir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (mode = 0o700, parent = root): string => {
  const d = join(parent, `d${n++}`);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
};
const refusal = (dir: string): unknown => {
  try {
    checkStateDir(dir);
  } catch (err) {
    return err;
  }
  throw new Error(`${dir} was accepted`);
};

describe('checkStateDir', () => {
  it('accepts a 0700 directory of ours (what the agent creates), and a 0755 one', () => {
    expect(() => checkStateDir(fresh())).not.toThrow();
    expect(() => checkStateDir(fresh(0o755))).not.toThrow();
  });

  it('refuses a world-writable directory (chmod 0777), naming the directory and the fix', () => {
    const d = fresh(0o777);
    expect(refusal(d)).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(`state directory ${d} is writable by its group and every user (mode 0777)`) });
    expect(refusal(d)).toMatchObject({ message: expect.stringContaining(`chmod go-w ${d}`) });
  });

  it('refuses a group-writable directory, and a sticky world-writable one (the sticky bit protects entries, not the dir itself)', () => {
    expect(refusal(fresh(0o770))).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringMatching(/writable by its group \(mode 0770\)/) });
    expect(refusal(fresh(0o1777))).toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('refuses a directory owned by another uid, naming the owner and the fix', () => {
    const d = fresh();
    chownSync(d, 65534, 65534);
    expect(refusal(d)).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(`is owned by uid 65534, not by the agent's uid 0`) });
    expect(refusal(d)).toMatchObject({ message: expect.stringContaining(`chown 0 ${d}`) });
  });

  it('refuses a directory inside a parent another user can write or owns (they could rename it away and plant another)', () => {
    const open = fresh(0o777);
    expect(refusal(fresh(0o700, open))).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(`lies in ${open}, writable by its group and every user (mode 0777) without the sticky bit`) });
    const foreign = fresh(0o755);
    chownSync(foreign, 65534, 65534);
    expect(refusal(fresh(0o700, foreign))).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(`lies in ${foreign}, owned by uid 65534`) });
  });

  it('accepts a directory inside a sticky world-writable parent such as /tmp', () => {
    const sticky = fresh(0o1777);
    expect(() => checkStateDir(fresh(0o700, sticky))).not.toThrow();
  });

  it('refuses a file where the directory should be', () => {
    const f = join(root, 'a-file');
    writeFileSync(f, 'x');
    expect(refusal(f)).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringMatching(/is not a directory/) });
  });

  it('checks the uid it is given (an agent not running as root)', () => {
    const d = fresh();
    expect(() => checkStateDir(d, { uid: 1000 })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringMatching(/owned by uid 0, not by the agent's uid 1000/) }));
  });
});
