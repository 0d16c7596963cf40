import { describe, expect, it } from 'vitest';
import { findQemuBinary } from '../../../agent/vm/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { writeFakeProgram } from './fake-programs.js';
import { tempDirPerTest } from '../../support/temp-dir.js';

const dir = tempDirPerTest('xepa-bin-');

describe('findQemuBinary', () => {
  it('returns the first qemu-system-x86_64 on PATH', async () => {
    const qemu = await writeFakeProgram(dir(), 'qemu-system-x86_64', 'exit 0');
    expect(await findQemuBinary({ pathEnv: `/nonexistent:${dir()}` })).toBe(qemu);
  });

  it('reports a missing QEMU with ERR_QEMU_START naming the package', async () => {
    const err = await findQemuBinary({ pathEnv: dir() }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/qemu-system-x86/);
  });
});
