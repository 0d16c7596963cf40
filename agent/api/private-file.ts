import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

// Secret files (the TLS key, the agent id) are created only with O_CREAT|O_EXCL ('wx') and mode 0600: an
// existing file or a symlink planted at the name is never opened, so nothing is written through it and no
// earlier, looser mode survives. Rewrites go through a fresh temporary name of the same kind, then rename().

// Creates `path` with `data`, mode 0600, failing with EEXIST when anything (a file, a symlink) is there already.
export async function createPrivateFile(path: string, data: string | Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // the umask only removes bits, but an inherited default ACL could add some
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
}

// Writes `path` atomically (a new 0600 file under an unpredictable name, then rename over the old one).
export async function writePrivateFile(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await createPrivateFile(tmp, data);
  await rename(tmp, path).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw err;
  });
}
