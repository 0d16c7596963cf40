import { PassThrough } from 'node:stream';
import type { Output } from '../../controller/cli/output.js';

// An Output whose stdout and stderr are collected as text (not a TTY: plain lines).
export function captureOutput(): Output & { stdout(): string; stderr(): string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: string[] = [];
  const e: string[] = [];
  out.on('data', (b: Buffer) => o.push(b.toString()));
  err.on('data', (b: Buffer) => e.push(b.toString()));
  return { out, err, stdout: () => o.join(''), stderr: () => e.join('') };
}
