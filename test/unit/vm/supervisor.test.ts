import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startVm, type VmSpec } from '../../../agent/vm/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { writeFakeProgram } from './fake-programs.js';

const log = pino({ level: 'silent' });
let dir: string;
let spec: VmSpec;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-sup-'));
  spec = {
    name: 'unit', accel: 'tcg', memoryMiB: 128, cpus: 1, firmware: { mode: 'bios' }, disks: [],
    sockets: { qmp: join(dir, 'qmp.sock'), vnc: join(dir, 'vnc.sock'), serial: [join(dir, 's0'), join(dir, 's1')] },
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startVm', () => {
  it('fails with ERR_QEMU_START and QEMU\'s stderr tail when QEMU dies before QMP is up', async () => {
    const qemu = await writeFakeProgram(dir, 'qemu', 'echo "qemu-system-x86_64: -drive file=/x: Could not open" >&2; exit 1');
    const err = await startVm(spec, { log, qemuBinary: qemu }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/code 1.*Could not open/);
    expect((err as { details: { stderrTail: string[] } }).details.stderrTail).toEqual(['qemu-system-x86_64: -drive file=/x: Could not open']);
  });

  it('keeps only the last 50 output lines', async () => {
    const qemu = await writeFakeProgram(dir, 'qemu', 'i=0; while [ $i -lt 120 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 3');
    const err = await startVm(spec, { log, qemuBinary: qemu }).catch((e: unknown) => e);
    const tail = (err as { details: { stderrTail: string[] } }).details.stderrTail;
    expect(tail).toHaveLength(50);
    expect(tail[0]).toBe('line 70');
    expect(tail[49]).toBe('line 119');
  });

  it('fails with ERR_QEMU_START and kills QEMU when QMP never comes up', async () => {
    const qemu = await writeFakeProgram(dir, 'qemu', 'exec sleep 1000');
    const started = Date.now();
    const err = await startVm(spec, { log, qemuBinary: qemu, startTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/SIGKILL/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails with ERR_QEMU_START when the QEMU binary does not exist', async () => {
    const err = await startVm(spec, { log, qemuBinary: join(dir, 'no-qemu') }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/ENOENT/);
  });
});

const FAKE_QEMU = new URL('./fixtures/fake-qemu.mjs', import.meta.url).pathname;

describe('RunningVm.stop', () => {
  async function fake(mode: string): Promise<string> {
    return writeFakeProgram(dir, `qemu-${mode}`, `FAKE_MODE=${mode} exec "${process.execPath}" "${FAKE_QEMU}" "$@"`);
  }

  it('ends a QEMU that obeys quit without any signal, keeping the SHUTDOWN reason', async () => {
    const vm = await startVm(spec, { log, qemuBinary: await fake('obedient') });
    expect(await vm.stop(2000)).toMatchObject({ code: 0, signal: null, shutdownReason: 'host-qmp-quit' });
  });

  it('sends SIGTERM when quit does not end QEMU within the grace time', async () => {
    const vm = await startVm(spec, { log, qemuBinary: await fake('ignore-quit') });
    const started = Date.now();
    expect(await vm.stop(200)).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('sends SIGKILL when SIGTERM does not end QEMU either', async () => {
    const vm = await startVm(spec, { log, qemuBinary: await fake('stubborn') });
    const exit = await vm.stop(200);
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(exit.stderrTail).toContain('ignoring SIGTERM');
  });

  it('returns the same exit to concurrent stop() calls', async () => {
    const vm = await startVm(spec, { log, qemuBinary: await fake('obedient') });
    const [a, b] = await Promise.all([vm.stop(2000), vm.stop(2000)]);
    expect(a).toBe(b);
  });
});
