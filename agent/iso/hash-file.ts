import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

// Streams a file through SHA-256 and returns the still-open hash (so a download can continue it) and the size.
// Throws `onAbort()` between chunks once the signal fires.
export async function hashFile(path: string, signal?: AbortSignal, onAbort?: () => Error): Promise<{ hash: Hash; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw onAbort ? onAbort() : new Error('aborted');
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } finally {
    stream.destroy();
  }
  return { hash, size };
}
