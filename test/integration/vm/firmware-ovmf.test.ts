import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOvmf, prepareUefiVars, startVm, type RunningVm, type VmSpec } from '../../../agent/vm/index.js';
import { readRfbBanner } from './helpers.js';

const log = pino({ level: 'silent' });
let dir: string;
const running: RunningVm[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-ovmf-int-'));
});
afterAll(async () => {
  for (const vm of running) await vm.stop(2000).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function bootUefi(jobDir: string, secureBoot: boolean): Promise<{ vm: RunningVm; spec: VmSpec }> {
  const firmware = await prepareUefiVars(await findOvmf('/', { secureBoot }), jobDir);
  const spec: VmSpec = {
    name: 'ovmf', accel: 'tcg', memoryMiB: 256, cpus: 1, firmware, disks: [],
    sockets: { qmp: join(jobDir, 'qmp.sock'), vnc: join(jobDir, 'vnc.sock'), serial: [join(jobDir, 's0'), join(jobDir, 's1')] },
  };
  const vm = await startVm(spec, { log });
  running.push(vm);
  return { vm, spec };
}

// Polls QMP screendump until the firmware has drawn: a graphics mode of its own (QEMU's 640x480
// "Guest has not initialized the display" placeholder does not count) with something not black on it.
async function waitForPicture(vm: RunningVm, file: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await vm.qmp.execute('screendump', { filename: file });
    const ppm = await readFile(file);
    // P6 header: magic, width height, maxval, then RGB bytes.
    const header = /^P6\s+(\d+)\s+(\d+)\s+\d+\s/.exec(ppm.subarray(0, 32).toString('latin1'));
    const placeholder = header?.[1] === '640' && header[2] === '480';
    if (header && !placeholder && ppm.subarray(header[0].length).some((b) => b !== 0)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

describe('OVMF under TCG with a per-job VARS copy', () => {
  it('runs QEMU with the installed OVMF: QMP says running and VNC answers', async () => {
    const { vm, spec } = await bootUefi(dir, false);
    expect(spec.firmware).toMatchObject({ mode: 'uefi', varsPath: join(dir, 'OVMF_VARS.fd') });
    expect((await stat(join(dir, 'OVMF_VARS.fd'))).size).toBeGreaterThan(0);
    // The firmware draws on the VGA console once it runs (a broken pflash setup never gets there).
    expect(await waitForPicture(vm, join(dir, 'screen.ppm'), 30_000)).toBe(true);
    expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'running', running: true });
    expect(await readRfbBanner(spec.sockets.vnc)).toBe('RFB 003.008\n');
    expect(await vm.stop(5000)).toMatchObject({ code: 0 });
  });

  it('runs the Secure Boot build with SMM', async () => {
    const jobDir = await mkdtemp(join(dir, 'sb-'));
    const { vm, spec } = await bootUefi(jobDir, true);
    expect(spec.firmware).toMatchObject({ secureBoot: true });
    expect(await waitForPicture(vm, join(jobDir, 'screen.ppm'), 30_000)).toBe(true);
    expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'running' });
    expect(await vm.stop(5000)).toMatchObject({ code: 0 });
  });
});
