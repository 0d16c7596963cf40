import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findQemuBinary } from '../../../agent/vm/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { writeFakeProgram } from './fake-programs.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-bin-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findQemuBinary', () => {
  it('returns the first qemu-system-x86_64 on PATH', async () => {
    const qemu = await writeFakeProgram(dir, 'qemu-system-x86_64', 'exit 0');
    expect(await findQemuBinary({ pathEnv: `/nonexistent:${dir}` })).toBe(qemu);
  });

  it('reports a missing QEMU with ERR_QEMU_START naming the package', async () => {
    const err = await findQemuBinary({ pathEnv: dir }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/qemu-system-x86/);
  });
});
