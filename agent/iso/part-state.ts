import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { isENOENT } from '../protocol/index.js';

// The sidecar kept beside `<sha256>.iso.part`: what the partial bytes were downloaded from.
export interface PartState {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

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

// Reads the sidecar; undefined when missing or unreadable (a broken sidecar only costs a fresh download).
export async function readPartState(path: string): Promise<PartState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.url !== 'string') return undefined;
    const s: PartState = { url: v.url };
    if (typeof v.etag === 'string') s.etag = v.etag;
    if (typeof v.lastModified === 'string') s.lastModified = v.lastModified;
    if (typeof v.total === 'number' && Number.isSafeInteger(v.total) && v.total >= 0) s.total = v.total;
    return s;
  } catch {
    return undefined;
  }
}

// Writes the sidecar atomically (temp file, fsync, rename) so a crash leaves the old or the new one.
export async function writePartState(path: string, s: PartState): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(s));
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
