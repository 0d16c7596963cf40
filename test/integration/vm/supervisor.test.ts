import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVm, type RunningVm, type VmSpec } from '../../../agent/vm/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';
import { canConnect, readRfbBanner } from './helpers.js';

const log = pino({ level: 'silent' });
let root: string;
let dir: string; // a job dir whose name has a comma: every QEMU option must escape it
const running: RunningVm[] = [];

function specIn(d: string, name: string): VmSpec {
  return {
    name,
    accel: 'tcg',
    memoryMiB: 128,
    cpus: 1,
    firmware: { mode: 'bios' },
    disks: [],
    sockets: { qmp: join(d, 'qmp.sock'), vnc: join(d, 'vnc.sock'), serial: [join(d, 's0.sock'), join(d, 's1.sock')] },
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'xepa-vm-int-'));
  dir = join(root, 'job,1');
  await mkdir(dir);
});

afterAll(async () => {
  for (const vm of running) await vm.stop(2000).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

describe('startVm with real QEMU (TCG, no guest OS)', () => {
  it('starts QEMU with disks on every bus and an ISO, answers QMP, serves VNC and serial, and stop() ends it', async () => {
    for (const f of ['virtio.raw', 'sata.raw', 'nvme.raw']) await truncate(await touch(join(dir, f)), 16 << 20);
    await truncate(await touch(join(dir, 'os.iso')), 1 << 20);
    const spec: VmSpec = {
      ...specIn(dir, 'int,vm'),
      cdrom: join(dir, 'os.iso'),
      disks: [
        { path: join(dir, 'virtio.raw'), serial: 'VIRTIO-1', bus: 'virtio' },
        { path: join(dir, 'sata.raw'), serial: 'SATA,1', bus: 'sata' },
        { path: join(dir, 'nvme.raw'), serial: 'NVME-1', bus: 'nvme' },
      ],
      serialLogs: [join(dir, 's0.log'), join(dir, 's1.log')],
    };
    const vm = await startVm(spec, { log });
    running.push(vm);
    expect(vm.pid).toBeGreaterThan(0);
    expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'running' });

    const blocks = await vm.qmp.execute<{ device: string; inserted?: { file: string; cache: { direct: boolean } } }[]>('query-block');
    const files = Object.fromEntries(blocks.map((b) => [b.device, b.inserted]));
    expect(files.disk0?.file).toBe(join(dir, 'virtio.raw'));
    expect(files.disk0?.cache.direct).toBe(true); // cache=none is O_DIRECT
    expect(files.disk1?.file).toBe(join(dir, 'sata.raw'));
    expect(files.cd0?.file).toBe(join(dir, 'os.iso'));

    expect(await readRfbBanner(spec.sockets.vnc)).toBe('RFB 003.008\n');
    expect(await canConnect(spec.sockets.serial[0])).toBe(true);
    expect(await canConnect(spec.sockets.serial[1])).toBe(true);
    expect(await readFile(join(dir, 's0.log'), 'utf8')).toBe(''); // the log exists even with nobody attached

    const exit = await vm.stop(5000);
    expect(exit).toMatchObject({ code: 0, signal: null, shutdownReason: 'host-qmp-quit' });
    expect(await vm.exited).toBe(exit);
    expect(vm.qmp.closed).toBe(true);
  });

  it('resolves exited with the signal when QEMU is killed with SIGKILL', async () => {
    const d = join(root, 'killed');
    await mkdir(d);
    const vm = await startVm(specIn(d, 'killed'), { log });
    running.push(vm);
    const closed = new Promise((r) => vm.qmp.once('close', r));
    process.kill(vm.pid, 'SIGKILL');
    const exit = await vm.exited;
    expect(exit.code).toBeNull();
    expect(exit.signal).toBe('SIGKILL');
    expect(exit.shutdownReason).toBeUndefined();
    await closed;
    expect(isXepaError(await vm.qmp.execute('query-status').catch((e: unknown) => e), 'ERR_QMP_DISCONNECTED')).toBe(true);
    expect(await vm.stop(100)).toBe(exit); // stopping a dead VM just reports how it ended
  });

  it('starts again in a job dir whose stale sockets a killed QEMU left behind', async () => {
    const d = join(root, 'killed'); // the previous test's QEMU died there with SIGKILL
    expect(await canConnect(join(d, 'qmp.sock'))).toBe(false);
    const vm = await startVm(specIn(d, 'again'), { log });
    running.push(vm);
    expect(await vm.qmp.execute('query-status')).toMatchObject({ status: 'running' });
    expect(await readRfbBanner(join(d, 'vnc.sock'))).toBe('RFB 003.008\n');
    expect(await vm.stop(5000)).toMatchObject({ code: 0 });
  });

  it('fails with ERR_QEMU_START and QEMU\'s own complaint when a disk does not exist', async () => {
    const d = join(root, 'bad');
    await mkdir(d);
    const spec: VmSpec = { ...specIn(d, 'bad'), disks: [{ path: join(d, 'missing.raw'), bus: 'virtio' }] };
    const err = await startVm(spec, { log }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QEMU_START')).toBe(true);
    expect((err as Error).message).toMatch(/missing\.raw/);
    expect((err as { details: { stderrTail: string[] } }).details.stderrTail.join('\n')).toMatch(/No such file/);
  });

  it('records the reason of a SHUTDOWN that QEMU reports on SIGTERM', async () => {
    const d = join(root, 'term');
    await mkdir(d);
    const vm = await startVm(specIn(d, 'term'), { log });
    running.push(vm);
    process.kill(vm.pid, 'SIGTERM');
    expect(await vm.exited).toMatchObject({ shutdownReason: 'host-signal' });
  });
});

async function touch(path: string): Promise<string> {
  await writeFile(path, '');
  return path;
}
