// Sends one stored file: Range (one range), ETag / If-None-Match / If-Range, and the file's digest in
// Repr-Digest (RFC 9530) and Digest (RFC 3230) — the whole file's digest, also on 206 answers.
import type { promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { decideRange } from './range.js';

// A file ready to send; the handle is closed by sendFile in every case.
export interface SendableFile {
  fh: fsp.FileHandle;
  size: number;
  sha256: string; // hex
  contentType: string;
  cacheControl: string;
  headers?: Record<string, string>;
}

// The strong ETag of a digest.
export const etagOf = (sha256: string): string => `"${sha256}"`;

// Does an If-None-Match / If-Range list name this ETag? (`*` matches anything; weak tags compare weakly)
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === '*' || t === etag);
}

// Answers a GET or HEAD for `f`.
export async function sendFile(req: IncomingMessage, res: ServerResponse, f: SendableFile): Promise<void> {
  const etag = etagOf(f.sha256);
  const b64 = Buffer.from(f.sha256, 'hex').toString('base64');
  const common: Record<string, string | number> = {
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': f.cacheControl,
    'Repr-Digest': `sha-256=:${b64}:`,
    Digest: `sha-256=${b64}`,
    'X-Checksum-Sha256': f.sha256,
    'X-Content-Type-Options': 'nosniff',
    ...f.headers,
  };
  try {
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, common).end();
      return;
    }
    // If-Range: honour Range only while the client still holds this exact content (we send no Last-Modified)
    const ifRange = req.headers['if-range'];
    const rangeHeader = ifRange === undefined || String(ifRange).trim() === etag ? req.headers.range : undefined;
    const d = decideRange(rangeHeader, f.size);
    if (d.kind === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'Content-Range': `bytes */${f.size}`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'ERR_BAD_REQUEST', message: `range not satisfiable: the file has ${f.size} bytes` }));
      return;
    }
    const [start, end] = d.kind === 'partial' ? [d.start, d.end] : [0, f.size - 1];
    const length = f.size === 0 ? 0 : end - start + 1;
    res.writeHead(d.kind === 'partial' ? 206 : 200, {
      ...common,
      'Content-Type': f.contentType,
      'Content-Length': length,
      ...(d.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${f.size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    const stream = f.fh.createReadStream({ start, end, autoClose: false });
    await pipeline(stream, res).catch(() => res.destroy()); // a client that goes away is not an error here
  } finally {
    await f.fh.close().catch(() => undefined);
  }
}
