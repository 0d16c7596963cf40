import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectUnixPooled } from '../../../agent/console/index.js';

describe('pooled unix socket reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-unix-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A unix socket server at <dir>/<name> that sends `bytes` random bytes to whoever connects, then ends; and them.
  async function sender(name: string, bytes: number): Promise<{ path: string; data: Buffer; server: net.Server }> {
    const path = join(dir, name);
    const data = randomBytes(bytes);
    const server = net.createServer((s) => s.end(data));
    await new Promise<void>((r) => server.listen(path, r));
    return { path, data, server };
  }

  it('delivers every byte intact while reusing a few read buffers that are given back', async () => {
    const { path, data, server } = await sender('u.sock', 8 << 20);
    const { socket, recycle } = connectUnixPooled(path, 64 << 10);
    const hash = createHash('sha256');
    const buffers = new Set<ArrayBuffer>();
    let total = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk); // consumed: the buffer may now be refilled
      buffers.add(chunk.buffer as ArrayBuffer);
      total += chunk.length;
      recycle(chunk);
    });
    await new Promise((r) => socket.once('close', r));
    server.close();
    expect(total).toBe(data.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(buffers.size).toBeLessThanOrEqual(2); // 128 reads, one buffer in use at a time (plus the one being filled)
  });

  it('never hands out a buffer that is still held', async () => {
    const { path, data, server } = await sender('v.sock', 1 << 20);
    const { socket, recycle } = connectUnixPooled(path, 16 << 10);
    const held: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => held.push(chunk)); // nothing recycled until the end
    await new Promise((r) => socket.once('close', r));
    server.close();
    expect(Buffer.concat(held).equals(data)).toBe(true);
    expect(new Set(held.map((c) => c.buffer)).size).toBe(held.length);
    for (const c of held) recycle(c);
  });
});
