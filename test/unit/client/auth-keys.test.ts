import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePublicKey, verifyToken } from '../../../agent/protocol/index.js';
import {
  PRIVATE_KEY_FILE,
  defaultControllerDir,
  generateControllerKeys,
  loadControllerKey,
  mintToken,
} from '../../../controller/auth/index.js';
import { tempDirs } from '../api/fixtures.js';

const tmp = tempDirs();
const dir = async (): Promise<string> => join(await tmp(), 'xepa');

describe('controller keys', () => {
  it('writes an Ed25519 PEM pair with the private key at mode 0600 and returns the raw public key', async () => {
    const d = await dir();
    const g = await generateControllerKeys(d);
    expect((await stat(g.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(d)).mode & 0o777).toBe(0o700);
    expect(await readFile(g.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(Buffer.from(g.publicKey, 'base64')).toHaveLength(32);
    const loaded = await loadControllerKey(d);
    expect(loaded.publicKeyBase64).toBe(g.publicKey);
  });

  it('refuses to overwrite an existing key with ERR_CONFIG unless forced', async () => {
    const d = await dir();
    const first = await generateControllerKeys(d);
    await expect(generateControllerKeys(d)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    expect((await loadControllerKey(d)).publicKeyBase64).toBe(first.publicKey);
    const second = await generateControllerKeys(d, { force: true });
    expect(second.publicKey).not.toBe(first.publicKey);
    expect((await stat(second.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await loadControllerKey(d)).publicKeyBase64).toBe(second.publicKey);
  });

  it('refuses a missing key with ERR_CONFIG telling to run keygen', async () => {
    await expect(loadControllerKey(await dir())).rejects.toMatchObject({ code: 'ERR_CONFIG', message: expect.stringMatching(/keygen/) });
  });

  it('refuses a private key readable by other users with ERR_CONFIG', async () => {
    const d = await dir();
    await generateControllerKeys(d);
    await chmod(join(d, PRIVATE_KEY_FILE), 0o644);
    await expect(loadControllerKey(d)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('defaults to $XEPA_HOME, else ~/.config/xepa', () => {
    expect(defaultControllerDir({ XEPA_HOME: '/srv/xepa' }, '/home/u')).toBe('/srv/xepa');
    expect(defaultControllerDir({}, '/home/u')).toBe('/home/u/.config/xepa');
  });
});

describe('mintToken', () => {
  it('mints a short-lived token the agent accepts with the configured raw public key', async () => {
    const d = await dir();
    const g = await generateControllerKeys(d);
    const k = await loadControllerKey(d);
    const now = 1_700_000_000_000;
    const t = mintToken(k.privateKey, { agentId: 'a1', scope: ['control', 'vnc'], ttlSeconds: 60, now: () => now });
    const claims = verifyToken(t, { keys: [parsePublicKey(g.publicKey)], audience: 'a1', scope: 'vnc', now });
    expect(claims.exp - claims.iat).toBe(60);
    expect(claims.iss).toBe('xepa-controller');
    expect(() => verifyToken(t, { keys: [parsePublicKey(g.publicKey)], audience: 'a1', scope: 'vnc', now: now + 120_000 })).toThrow(
      expect.objectContaining({ code: 'ERR_UNAUTHORIZED' }),
    );
  });
});
