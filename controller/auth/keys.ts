import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { XepaError, hasErrno, isENOENT } from '../../agent/protocol/index.js';

// File names of the controller's signing key pair inside its directory.
export const PRIVATE_KEY_FILE = 'controller-key.pem';
export const PUBLIC_KEY_FILE = 'controller-key.pub.pem';

/** Where generateControllerKeys wrote the pair, and the public key in the form agents are configured with. */
export interface GeneratedKeys {
  privateKeyPath: string;
  publicKeyPath: string;
  publicKey: string; // base64 of the raw 32-byte Ed25519 public key
}

/** The controller's loaded signing key. */
export interface ControllerKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyBase64: string; // raw 32 bytes, base64
}

// The controller's home: $XEPA_HOME, else ~/.config/xepa.
export function defaultControllerDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return env.XEPA_HOME && env.XEPA_HOME.length > 0 ? env.XEPA_HOME : join(home, '.config', 'xepa');
}

// base64 of the raw 32-byte Ed25519 public key (what the agent config and parsePublicKey accept).
export function rawPublicKeyBase64(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

async function writeFileMode(path: string, data: string, mode: number, overwrite: boolean): Promise<void> {
  const target = overwrite ? `${path}.${process.pid}.tmp` : path;
  const fh = await open(target, overwrite ? 'w' : 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(target, mode);
  if (overwrite) await rename(target, path);
}

// Creates the controller's Ed25519 key pair as PEM files (private key mode 0600, directory 0700).
// Refuses with ERR_CONFIG when a key already exists, unless force is set.
export async function generateControllerKeys(
  dir: string = defaultControllerDir(),
  opts: { force?: boolean } = {},
): Promise<GeneratedKeys> {
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE);
  const publicKeyPath = join(dir, PUBLIC_KEY_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const force = opts.force === true;
  try {
    await writeFileMode(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, force);
  } catch (err) {
    if (hasErrno(err, 'EEXIST')) {
      throw new XepaError('ERR_CONFIG', `a controller key already exists at ${privateKeyPath}: refusing to overwrite it (use --force to replace it; agents trusting the old key will then refuse new tokens)`, { cause: err });
    }
    throw err;
  }
  await writeFileMode(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644, true);
  return { privateKeyPath, publicKeyPath, publicKey: rawPublicKeyBase64(publicKey) };
}

// Loads the controller's signing key. ERR_CONFIG when it is missing, unreadable, not Ed25519, or readable
// by other users (like ssh, a private key others can read is not used).
export async function loadControllerKey(dir: string = defaultControllerDir()): Promise<ControllerKey> {
  const path = join(dir, PRIVATE_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) throw new XepaError('ERR_CONFIG', `no controller key at ${path}: run "xepa keygen" first`, { cause: err });
    throw new XepaError('ERR_CONFIG', `cannot read the controller key ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (((await stat(path)).mode & 0o077) !== 0) {
    throw new XepaError('ERR_CONFIG', `the controller key ${path} is accessible by other users: run "chmod 600 ${path}"`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new XepaError('ERR_CONFIG', `the controller key ${path} is not a valid PEM private key`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new XepaError('ERR_CONFIG', `the controller key ${path} is ${privateKey.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyBase64: rawPublicKeyBase64(publicKey) };
}
