import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { XepaError } from '../../agent/protocol/index.js';
import { runRemote, shq, type RemoteShell } from './remote-shell.js';

/** Did a step change the rescue system? */
export type StepChange = 'changed' | 'unchanged';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

// sha256 and octal mode of a remote file, or undefined when it does not exist.
export async function remoteFileState(shell: RemoteShell, path: string): Promise<{ sha256: string; mode: string } | undefined> {
  const out = await runRemote(
    shell,
    `reading ${path}`,
    `if [ -f ${shq(path)} ]; then sha256sum ${shq(path)} | cut -d' ' -f1; stat -c %a ${shq(path)}; fi`,
  );
  const [hash, mode] = out.split('\n').map((l) => l.trim());
  return hash && mode ? { sha256: hash, mode } : undefined;
}

// A remote file's text, or undefined when it does not exist.
export async function readRemoteText(shell: RemoteShell, path: string): Promise<string | undefined> {
  const r = await shell.exec(`if [ -f ${shq(path)} ]; then cat ${shq(path)}; else exit 3; fi`);
  if (r.code === 3) return undefined;
  if (r.code !== 0) throw new XepaError('ERR_REMOTE_COMMAND', `cannot read ${path} on the rescue system (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.toString('utf8');
}

// Makes a remote file hold exactly `data` with `mode`: nothing is written when its sha256 and mode already
// match; otherwise the data goes to a temporary file beside it, is checked, and renamed over it (atomic).
export async function ensureRemoteFile(shell: RemoteShell, path: string, data: Buffer | string, mode: number): Promise<StepChange> {
  const want = sha256(data);
  const octal = mode.toString(8);
  const have = await remoteFileState(shell, path);
  if (have && have.sha256 === want && have.mode === octal) return 'unchanged';
  if (have && have.sha256 === want) {
    await runRemote(shell, `chmod ${path}`, `chmod ${octal} ${shq(path)}`);
    return 'changed';
  }
  const tmp = `${path}.xepa-upload`;
  await runRemote(
    shell,
    `uploading ${path}`,
    `set -e
mkdir -p ${shq(posix.dirname(path))}
umask 077
cat > ${shq(tmp)}
if [ "$(sha256sum ${shq(tmp)} | cut -d' ' -f1)" != ${shq(want)} ]; then rm -f ${shq(tmp)}; echo "upload of ${path} arrived damaged" >&2; exit 3; fi
chmod ${octal} ${shq(tmp)}
mv -f ${shq(tmp)} ${shq(path)}`,
    data,
  );
  return 'changed';
}
