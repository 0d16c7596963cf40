// `disk.restore-partition-table` attacked through the real agent bundle (issue 11, item 4): loop disks whose
// boot sector halts the guest, QEMU (TCG) install jobs that save the disks' partition tables, and control
// calls an attacker with a control token could send. Every refusal leaves the disks as they were; a
// decompression bomb in a sub-megabyte message does not grow the agent's peak memory.
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../controller/client/index.js';
import { loopDevicesUnder, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { MAX_CONTROL_MESSAGE, type PartitionBackup } from '../../../agent/protocol/index.js';
import { codeOfAsync } from '../../support/error-code.js';
import { startHarness, watchJob, fakeIso, type Harness } from '../reliability/helpers/agent-harness.js';
import { bootSector, createBootDisk, BOOT_MARKER } from '../reliability/helpers/boot-disk.js';
import { startFaultServer, type FaultServer } from '../reliability/helpers/fault-server.js';
import { killStrays, rssKiB } from '../reliability/helpers/processes.js';

const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'xepa-restore-attacks-'));
const iso = fakeIso();
let h: Harness;
let client: AgentClient;
let server: FaultServer;
let diskA: LoopDisk;
let diskB: LoopDisk;
let ended = ''; // a job that ran on disk A and ended: its saved backup is what the attacks aim at

const request = (disk: LoopDisk) => ({ iso: { url: server.url, sha256: iso.sha256 }, disks: [{ path: disk.device }], vm: { memoryMiB: 256, cpus: 1, bootOrder: 'disk-first' as const } });
const sector0 = async (device: string): Promise<Buffer> => {
  const fh = await open(device, 'r');
  try {
    const b = Buffer.alloc(512);
    await fh.read(b, 0, 512, 0);
    return b;
  } finally {
    await fh.close();
  }
};
const scribble = async (device: string): Promise<void> => {
  const fh = await open(device, 'r+');
  try {
    await fh.write(Buffer.alloc(512, 0xaa), 0, 512, 0); // what an installer would leave
    await fh.sync();
  } finally {
    await fh.close();
  }
};
// Starts an install on `disk`, waits until its VM runs the disk's boot sector.
async function running(disk: LoopDisk): Promise<{ id: string; w: ReturnType<typeof watchJob> }> {
  const job = await client.call('install', request(disk));
  const w = watchJob(client, job.id);
  await w.until((e) => e.state === 'running', 'the running state');
  return { id: job.id, w };
}
async function cancel(j: { id: string; w: ReturnType<typeof watchJob> }): Promise<void> {
  await client.call('job.cancel', { job: j.id });
  await j.w.done;
}

beforeAll(async () => {
  h = await startHarness(work);
  client = await h.connect();
  server = await startFaultServer(() => ({ body: iso.body, etag: '"v1"' }));
  diskA = await createBootDisk(join(work, 'a.img'), 'halt');
  diskB = await createBootDisk(join(work, 'b.img'), 'halt');
  const j = await running(diskA);
  await cancel(j);
  ended = j.id;
  expect((await client.call('job.backup', { job: ended })).backup).toMatchObject({ disk: diskA.device });
  await scribble(diskA.device);
});
afterAll(async () => {
  await client?.close();
  await h?.agent.stop();
  await killStrays(work);
  await server?.close();
  for (const d of [diskA, diskB]) await d?.detach().catch(() => undefined);
  expect(await loopDevicesUnder(work)).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe('disk.restore-partition-table against the real agent', () => {
  it("refuses while another job's VM uses the disk, and the disk stays as that job has it", async () => {
    const other = await running(diskA);
    try {
      const r = client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'raw' });
      expect(await codeOfAsync(r)).toBe('ERR_DEVICE_BUSY');
      expect((await sector0(diskA.device))[0]).toBe(0xaa);
    } finally {
      await cancel(other);
    }
  });

  it("refuses while anything else holds the disk exclusively (the kernel answers EBUSY to the restore's own O_EXCL open)", async () => {
    const holder = await open(diskA.device, constants.O_RDONLY | constants.O_EXCL); // as a job's claim or a mount would
    try {
      const r = client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'raw' });
      expect(await codeOfAsync(r)).toBe('ERR_DEVICE_BUSY');
    } finally {
      await holder.close();
    }
    expect((await sector0(diskA.device))[0]).toBe(0xaa);
  });

  it('refuses a caller-supplied record that aims the saved bytes at another disk', async () => {
    const own = (await client.call('job.backup', { job: ended })).backup!;
    const before = await sector0(diskB.device);
    const aimed: PartitionBackup = { ...own, disk: diskB.device };
    expect(await codeOfAsync(client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'raw', backup: aimed }))).toBe('ERR_BAD_REQUEST');
    expect(await codeOfAsync(client.call('disk.restore-partition-table', { job: ended, disk: diskB.device, mode: 'raw' }))).toBe('ERR_NOT_FOUND');
    expect((await sector0(diskB.device)).equals(before)).toBe(true);
  });

  it("refuses a decompression bomb in a sub-megabyte message without growing the agent's peak memory", async () => {
    const own = (await client.call('job.backup', { job: ended })).backup!;
    const member = gzipSync(Buffer.alloc(8 * MiB), { level: 9 }); // gzip members concatenate: 64 of them inflate to 512 MiB
    const gzBase64 = Buffer.concat(Array.from({ length: 64 }, () => member)).toString('base64');
    const bomb: PartitionBackup = { ...own, head: { bytes: own.head.bytes, gzBase64 } };
    expect(JSON.stringify(bomb).length).toBeLessThan(MAX_CONTROL_MESSAGE);
    const peakBefore = await rssKiB(h.agent.pid, 'VmHWM');
    expect(await codeOfAsync(client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'raw', backup: bomb }))).toBe('ERR_BAD_REQUEST');
    const grewMiB = ((await rssKiB(h.agent.pid, 'VmHWM')) - peakBefore) / 1024;
    console.info(`restore bomb (${(JSON.stringify(bomb).length / 1024).toFixed(0)} KiB message, 512 MiB inflated): agent peak RSS +${grewMiB.toFixed(1)} MiB`);
    expect(grewMiB, `agent peak RSS grew ${grewMiB.toFixed(1)} MiB`).toBeLessThan(64);
    expect((await sector0(diskA.device))[0]).toBe(0xaa);
    expect((await client.call('job.get', { job: ended })).id).toBe(ended); // the agent still serves
  });

  it('replays the saved sfdisk dump onto the block device while the agent holds it exclusively', async () => {
    const own = (await client.call('job.backup', { job: ended })).backup!;
    expect(own.sfdisk).toMatch(/label: dos/); // the boot sector's 55 AA signature reads as an empty DOS table
    const r = await client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'sfdisk' });
    expect(r.message).toMatch(/restored from the sfdisk dump/);
    const s = await sector0(diskA.device);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
  });

  it("writes the job's own saved ends back onto the disk it owned once no job holds it", async () => {
    const r = await client.call('disk.restore-partition-table', { job: ended, disk: diskA.device, mode: 'raw' });
    expect(r).toMatchObject({ disk: diskA.device, mode: 'raw' });
    const s = await sector0(diskA.device);
    expect(s.equals(bootSector('halt'))).toBe(true);
    expect(s.includes(BOOT_MARKER)).toBe(true);
  });
});
