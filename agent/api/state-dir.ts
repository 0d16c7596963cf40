import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { XepaError } from '../protocol/index.js';

/** What the state-directory check needs: who we are and how to look at a path (real defaults). */
export interface StateDirDeps {
  uid?: number; // default process.getuid()
  stat?: (path: string) => Stats; // follows symlinks, like every later open of the directory does
}

// A directory another user may write lets that user plant, swap or remove the agent's secrets and journals
// (the TLS key, the vfio journal, verified ISOs): the agent refuses to start on it. OpenSSH's StrictModes rule:
// the directory and every ancestor must be owned by us or root and not writable by group or others; an
// ancestor may be world-writable only with the sticky bit (like /tmp), which stops others renaming our entry.
export function checkStateDir(dir: string, deps: StateDirDeps = {}): void {
  const uid = deps.uid ?? process.getuid?.() ?? 0;
  const stat = deps.stat ?? statSync;
  const abs = resolve(dir);
  const own = stat(abs);
  if (!own.isDirectory()) throw refuse(abs, 'is not a directory', `remove it or choose another stateDir`);
  if (own.uid !== uid) {
    throw refuse(abs, `is owned by uid ${own.uid}, not by the agent's uid ${uid}`, `chown ${uid} ${abs} (and check what it holds), or choose another stateDir`);
  }
  if ((own.mode & 0o022) !== 0) {
    throw refuse(abs, `is writable by ${writers(own.mode)} (mode ${octal(own.mode)})`, `chmod go-w ${abs} (0700 is what the agent creates)`);
  }
  for (let p = dirname(abs); ; p = dirname(p)) {
    const st = stat(p);
    if (st.uid !== uid && st.uid !== 0) {
      throw refuse(abs, `lies in ${p}, owned by uid ${st.uid}, who can replace it`, `use a stateDir whose parents belong to root or uid ${uid}`);
    }
    const sticky = (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !sticky) {
      throw refuse(abs, `lies in ${p}, writable by ${writers(st.mode)} (mode ${octal(st.mode)}) without the sticky bit`, `chmod go-w ${p}, or choose another stateDir`);
    }
    if (p === dirname(p)) break;
  }
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;
const writers = (mode: number): string => [mode & 0o020 ? 'its group' : '', mode & 0o002 ? 'every user' : ''].filter(Boolean).join(' and ');
const refuse = (dir: string, why: string, fix: string): XepaError =>
  new XepaError('ERR_CONFIG', `refusing to start: state directory ${dir} ${why}; another user could plant or swap the agent's keys, journals and ISOs. Fix: ${fix}`);
