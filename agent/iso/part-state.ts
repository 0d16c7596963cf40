import { createHash } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { isENOENT, redactUrl } from '../protocol/index.js';

// What the partial bytes of `<sha256>.iso.part` were downloaded from. In memory `url` is the full URL the fetch
// uses; the sidecar on disk never holds it (see StoredPartState).
export interface PartState {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

// The sidecar as stored: the URL only redacted (for people) and as a SHA-256 (to recognise the same URL on
// resume), so signed query parameters and passwords never reach the disk; mode 0600 all the same.
export interface StoredPartState {
  source: string;
  urlSha256: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

// The digest by which a sidecar recognises the URL its bytes came from.
export const urlDigest = (url: string): string => createHash('sha256').update(url).digest('hex');

// Where one ISO lives in the destination directory, by digest.
export interface IsoPaths {
  final: string;
  part: string;
  state: string;
}

// The final, partial and sidecar paths of the ISO with this (lowercase) digest.
export function isoPaths(destDir: string, sha256: string): IsoPaths {
  const final = join(destDir, `${sha256}.iso`);
  return { final, part: `${final}.part`, state: `${final}.part.json` };
}

// The validator and size a response announces (ETag, Last-Modified, total length).
export function stateFromResponse(url: string, headers: IncomingHttpHeaders, total: number | undefined): PartState {
  const s: PartState = { url };
  if (typeof headers.etag === 'string' && headers.etag) s.etag = headers.etag;
  if (typeof headers['last-modified'] === 'string' && headers['last-modified']) s.lastModified = headers['last-modified'];
  if (total !== undefined) s.total = total;
  return s;
}

// The If-Range value for a resume: a strong ETag, else Last-Modified (RFC 9110 §13.1.5 forbids weak ETags).
export function ifRangeValue(s: PartState): string | undefined {
  if (s.etag && !s.etag.startsWith('W/')) return s.etag;
  return s.lastModified;
}

// True when the response's validator shows a different file than the one the part came from.
export function validatorChanged(s: PartState, headers: IncomingHttpHeaders): boolean {
  const etag = typeof headers.etag === 'string' ? headers.etag : undefined;
  if (s.etag && etag) return weak(s.etag) !== weak(etag);
  const lm = headers['last-modified'];
  if (s.lastModified && typeof lm === 'string') return s.lastModified !== lm;
  return false;
}

const weak = (etag: string): string => etag.replace(/^W\//, '');

// Reads the sidecar; undefined when missing or unreadable (a broken sidecar only costs a fresh download, and so
// does one written by an older agent that stored the URL itself).
export async function readPartState(path: string): Promise<StoredPartState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.urlSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.urlSha256)) return undefined;
    const s: StoredPartState = { source: typeof v.source === 'string' ? v.source : '', urlSha256: v.urlSha256 };
    if (typeof v.etag === 'string') s.etag = v.etag;
    if (typeof v.lastModified === 'string') s.lastModified = v.lastModified;
    if (typeof v.total === 'number' && Number.isSafeInteger(v.total) && v.total >= 0) s.total = v.total;
    return s;
  } catch {
    return undefined;
  }
}

// Writes the sidecar atomically (temp file created exclusively with mode 0600, fsync, rename) so a crash leaves
// the old or the new one; the URL is stored redacted and as a digest, never as given.
export async function writePartState(path: string, s: PartState): Promise<void> {
  const { url, ...rest } = s;
  const stored: StoredPartState = { source: redactUrl(url), urlSha256: urlDigest(url), ...rest };
  const tmp = `${path}.tmp`;
  await removeIfExists(tmp); // a crash between create and rename leaves one behind
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(stored));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

// Deletes a file, ignoring that it is already gone.
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
}
