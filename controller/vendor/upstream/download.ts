// Downloads one file straight into the store, hashing while it streams; it becomes a blob only when its digest
// matches what upstream published. A mismatch is ERR_FETCH_DIGEST and leaves nothing behind.
import { XepaError } from '../../../agent/protocol/index.js';
import type { BlobRef, BlobStore } from '../store/blob-store.js';
import type { Digest } from './checksums.js';
import { fetchFailure, timeoutSignal, type FetchFn } from './http.js';

// Options of one download.
export interface DownloadOptions {
  fetch?: FetchFn;
  signal?: AbortSignal;
  // Called with bytes so far and the total when known (at most a few times a second is the caller's job).
  onProgress?: (bytes: number, total: number | undefined) => void;
  // Limit on the whole transfer (default 6 h) — files may be GiBs; the idle limit is what catches a stall.
  timeoutMs?: number;
  idleMs?: number;
}

// Downloads `url` into `blobs`, verifying it against `expected`; returns the stored blob.
export async function downloadVerified(url: string, expected: Digest, blobs: BlobStore, o: DownloadOptions = {}): Promise<BlobRef> {
  const fetch = o.fetch ?? globalThis.fetch;
  const idle = new AbortController();
  const signal = AbortSignal.any([timeoutSignal(o.timeoutMs ?? 6 * 3600_000, o.signal), idle.signal]);
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(Object.assign(new Error('idle'), { name: 'TimeoutError' })), o.idleMs ?? 60_000);
  };
  const writer = await blobs.openWriter();
  try {
    touch();
    const res = await fetch(url, { headers: { 'user-agent': 'xepa-vendor-updater' }, signal, redirect: 'follow' });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new XepaError('ERR_FETCH_HTTP', `${url}: HTTP ${res.status}`, { details: { url, status: res.status } });
    }
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : undefined;
    for await (const chunk of res.body) {
      touch();
      await writer.write(chunk as Uint8Array);
      o.onProgress?.(writer.size, total);
    }
    if (total !== undefined && writer.size !== total) {
      throw new XepaError('ERR_FETCH_SIZE', `${url}: got ${writer.size} bytes, Content-Length said ${total}`);
    }
    const got = writer.digests()[expected.algorithm];
    if (got !== expected.hex) {
      throw new XepaError('ERR_FETCH_DIGEST', `${url}: ${expected.algorithm} is ${got}, upstream published ${expected.hex}`, {
        details: { url, algorithm: expected.algorithm, expected: expected.hex, actual: got },
      });
    }
    return await writer.commit();
  } catch (err) {
    await writer.abort();
    throw fetchFailure(url, err, signal);
  } finally {
    clearTimeout(idleTimer);
  }
}
