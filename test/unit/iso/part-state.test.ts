import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PartFile, isoPaths, readPartState, urlDigest, writePartState } from '../../../agent/iso/part-file.js';
import { ifRangeValue, validatorChanged } from '../../../agent/iso/attempt.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { tempDirPerTest } from '../../support/temp-dir.js';

const log = pino({ level: 'silent' });
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const URL_ = 'http://mirror.test/os.iso';
const DATA = Buffer.from('0123456789abcdefghij');

const dir = tempDirPerTest('xepa-part-');

describe('validators', () => {
  it('uses a strong ETag for If-Range, else Last-Modified, never a weak ETag', () => {
    expect(ifRangeValue({ url: URL_, etag: '"x"', lastModified: 'd' })).toBe('"x"');
    expect(ifRangeValue({ url: URL_, etag: 'W/"x"', lastModified: 'd' })).toBe('d');
    expect(ifRangeValue({ url: URL_, etag: 'W/"x"' })).toBeUndefined();
  });

  it('sees a change only when a comparable validator differs (weak and strong forms compare equal)', () => {
    expect(validatorChanged({ url: URL_, etag: '"a"' }, { etag: '"b"' })).toBe(true);
    expect(validatorChanged({ url: URL_, etag: '"a"' }, { etag: 'W/"a"' })).toBe(false);
    expect(validatorChanged({ url: URL_, etag: '"a"' }, {})).toBe(false);
    expect(validatorChanged({ url: URL_ }, { etag: '"a"' })).toBe(false);
  });
});

describe('sidecar', () => {
  it('round-trips and treats a corrupt sidecar as absent', async () => {
    const p = isoPaths(dir(), 'ab'.repeat(32));
    expect(p.part).toBe(join(dir(), `${'ab'.repeat(32)}.iso.part`));
    await writePartState(p.state, { url: URL_, etag: '"e"', total: 20 });
    expect(await readPartState(p.state)).toEqual({ source: URL_, urlSha256: urlDigest(URL_), etag: '"e"', total: 20 });
    await writeFile(p.state, '{not json');
    expect(await readPartState(p.state)).toBeUndefined();
    await rm(p.state);
    expect(await readPartState(p.state)).toBeUndefined();
  });
});

describe('PartFile', () => {
  it('resumes a part from the same URL with its hash covering the bytes already there', async () => {
    const p = isoPaths(dir(), sha(DATA));
    await writeFile(p.part, DATA.subarray(0, 8));
    await writePartState(p.state, { url: URL_, etag: '"e"', total: DATA.length });
    const part = await PartFile.open(p, URL_, log);
    expect(part.bytes).toBe(8);
    expect(part.state.etag).toBe('"e"');
    await part.append(DATA.subarray(8));
    const done = await part.finish(sha(DATA), URL_);
    expect(done).toEqual({ path: p.final, sha256: sha(DATA), size: DATA.length });
    expect(await readFile(p.final)).toEqual(DATA);
    expect((await readdir(dir())).sort()).toEqual([`${sha(DATA)}.iso`]);
  });

  it('starts over when the sidecar names another URL or is missing', async () => {
    const p = isoPaths(dir(), sha(DATA));
    await writeFile(p.part, Buffer.from('junk'));
    await writePartState(p.state, { url: 'http://other.test/x.iso' });
    expect((await PartFile.open(p, URL_, log)).bytes).toBe(0);
    await writeFile(p.part, Buffer.from('junk'));
    await rm(p.state);
    const part = await PartFile.open(p, URL_, log);
    expect(part.bytes).toBe(0);
    expect(await readPartState(p.state)).toEqual({ source: URL_, urlSha256: urlDigest(URL_) });
    await part.close();
  });

  it('starts over when the part is longer than the file it came from', async () => {
    const p = isoPaths(dir(), sha(DATA));
    await writeFile(p.part, DATA);
    await writePartState(p.state, { url: URL_, total: 5 });
    const part = await PartFile.open(p, URL_, log);
    expect(part.bytes).toBe(0);
    await part.close();
  });

  it('restart truncates the bytes and the hash and records the new validator', async () => {
    const p = isoPaths(dir(), sha(DATA));
    const part = await PartFile.open(p, URL_, log);
    await part.append(Buffer.from('garbage'));
    await part.restart({ url: URL_, etag: '"new"' });
    expect(await readPartState(p.state)).toEqual({ source: URL_, urlSha256: urlDigest(URL_), etag: '"new"' });
    await part.append(DATA);
    expect((await part.finish(sha(DATA), URL_)).size).toBe(DATA.length);
  });

  it('a digest mismatch is ERR_FETCH_DIGEST and leaves neither the part, the sidecar nor a final file', async () => {
    const p = isoPaths(dir(), sha(DATA));
    const part = await PartFile.open(p, URL_, log);
    await part.append(Buffer.from('not the iso'));
    const err = await part.finish(sha(DATA), URL_).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_FETCH_DIGEST')).toBe(true);
    expect(await readdir(dir())).toEqual([]);
  });

  it('a digest mismatch never tells the digest it got (a caller could learn the digest of any URL)', async () => {
    const p = isoPaths(dir(), sha(DATA));
    const part = await PartFile.open(p, URL_, log);
    const body = Buffer.from('private content of some internal URL');
    await part.append(body);
    const err = await part.finish(sha(DATA), URL_).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_FETCH_DIGEST')).toBe(true);
    expect(JSON.stringify({ message: (err as Error).message, details: (err as { details?: unknown }).details })).not.toContain(sha(body));
  });
});

describe('sidecar secrecy', () => {
  const SIGNED = 'https://deploy:hunter2pw@cdn.test:8443/os.iso?X-Amz-Signature=SIGSECRET&X-Amz-Credential=CREDSECRET';

  it('stores the URL redacted and as a digest, mode 0600, never the userinfo or query values', async () => {
    const p = isoPaths(dir(), sha(DATA));
    const part = await PartFile.open(p, SIGNED, log);
    await part.setState({ url: SIGNED, etag: '"e"', total: DATA.length });
    const text = await readFile(p.state, 'utf8');
    for (const secret of ['deploy', 'hunter2pw', 'SIGSECRET', 'CREDSECRET']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toEqual({ source: 'https://***@cdn.test:8443/os.iso?X-Amz-Signature=***&X-Amz-Credential=***', urlSha256: urlDigest(SIGNED), etag: '"e"', total: DATA.length });
    expect((await stat(p.state)).mode & 0o777).toBe(0o600);
    expect((await stat(p.part)).mode & 0o777).toBe(0o600);
    await part.close();
  });

  it('resumes only the same full URL: another signature is another URL', async () => {
    const p = isoPaths(dir(), sha(DATA));
    await writeFile(p.part, DATA.subarray(0, 8));
    await writePartState(p.state, { url: SIGNED, total: DATA.length });
    expect((await PartFile.open(p, SIGNED, log)).bytes).toBe(8);
    await writePartState(p.state, { url: SIGNED, total: DATA.length });
    expect((await PartFile.open(p, SIGNED.replace('SIGSECRET', 'OTHERSIG'), log)).bytes).toBe(0);
  });

  it('ignores a sidecar of an older agent that stored the URL itself (the download starts over and overwrites it)', async () => {
    const p = isoPaths(dir(), sha(DATA));
    await writeFile(p.part, DATA.subarray(0, 8));
    await writeFile(p.state, JSON.stringify({ url: SIGNED, total: DATA.length }), { mode: 0o644 });
    const part = await PartFile.open(p, SIGNED, log);
    expect(part.bytes).toBe(0);
    expect(await readFile(p.state, 'utf8')).not.toContain('SIGSECRET');
    expect((await stat(p.state)).mode & 0o777).toBe(0o600);
    await part.close();
  });
});
