// The `disk.restore-partition-table` method against attacks (issue 11, item 4): disks are real files in a temp
// dir (opened exclusively and sized by the agent's own code), jobs are a fake registry, backups are made and
// stored by the agent's own code. Each refusal must leave the disk untouched; the ones that concern untrusted
// compressed data must refuse before anything is decompressed (an injected counter sees every inflate).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobManager } from '../../../agent/jobs/index.js';
import type { ToolRunner } from '../../../agent/fidelity/index.js';
import { backupPartitionTable, inflateCapped, readBackups, saveBackups, type Inflate } from '../../../agent/finish/index.js';
import { createFinishHandlers } from '../../../agent/methods/index.js';
import { XepaError, type DiskInfo, type JobState, type PartitionBackup, type Plan } from '../../../agent/protocol/index.js';
import { codeOfAsync } from '../../support/error-code.js';

const MiB = 1024 * 1024;
const noTable: ToolRunner = async () => ({ code: 1, stdout: '', stderr: 'does not contain a recognized partition table' });

type FakeJob = { id: string; state: JobState; plan: Plan; dir: string };
const planOf = (disks: DiskInfo[]): Plan => ({
  hash: 'h', disks: disks.map((d) => ({ path: d.path, name: d.name, serial: d.serial, wwn: d.wwn, sizeBytes: d.sizeBytes, via: 'raw' as const })),
  firmware: 'bios', accel: 'tcg', accelReason: 'test', memoryMiB: 256, cpus: 1, diskBus: 'virtio', iommu: false, warnings: [],
});

let work: string;
let sda: DiskInfo;
let sdb: DiskInfo;
let host: DiskInfo[];
let jobs: Map<string, FakeJob>;
let inflates: number;
let handler: ReturnType<typeof createFinishHandlers>['disk.restore-partition-table'];

const registry = (): JobManager =>
  ({
    get: (id: string) => {
      const j = jobs.get(id);
      if (!j) throw new XepaError('ERR_NOT_FOUND', `no job ${id}`);
      return { ...j, done: Promise.resolve(), summary: () => ({ id: j.id, state: j.state, plan: j.plan }) };
    },
    list: () => [...jobs.values()].map((j) => ({ id: j.id, state: j.state, plan: j.plan })),
  }) as unknown as JobManager;

async function addJob(id: string, state: JobState, disks: DiskInfo[]): Promise<FakeJob> {
  const job = { id, state, plan: planOf(disks), dir: join(work, 'jobs', id) };
  const saved = [];
  for (const d of disks) saved.push(await backupPartitionTable({ path: d.path, sizeBytes: d.sizeBytes, serial: d.serial, wwn: d.wwn }, { run: noTable }));
  await saveBackups(job.dir, saved);
  jobs.set(id, job);
  return job;
}

const diskFile = (name: string, serial: string, wwn: string): DiskInfo => {
  const path = join(work, `${name}.img`);
  const bytes = Buffer.alloc(4 * MiB);
  bytes.write(`ORIGINAL ${name}`, 0);
  bytes.write(`BACKUP-GPT ${name}`, 4 * MiB - 512);
  writeFileSync(path, bytes);
  return { name, path, sizeBytes: 4 * MiB, serial, wwn, removable: false, readOnly: false, inUse: [] };
};
const installerWrote = (d: DiskInfo): void => {
  const bytes = readFileSync(d.path);
  bytes.fill(0xaa, 0, 4096);
  writeFileSync(d.path, bytes);
};
const head = (d: DiskInfo): string => readFileSync(d.path).subarray(0, 12).toString('latin1');

beforeEach(async () => {
  work = mkdtempSync(join(tmpdir(), 'xepa-restore-'));
  sda = diskFile('sda', 'S-A', 'W-A');
  sdb = diskFile('sdb', 'S-B', 'W-B');
  host = [sda, sdb];
  jobs = new Map();
  await addJob('job-a', 'done', [sda]);
  await addJob('job-b', 'cancelled', [sdb]);
  installerWrote(sda);
  installerWrote(sdb);
  inflates = 0;
  const counted: Inflate = (gz, bytes, what) => {
    inflates++;
    return inflateCapped()(gz, bytes, what);
  };
  handler = createFinishHandlers(registry(), {
    jobsDir: join(work, 'jobs'),
    listDisks: async () => host,
    run: noTable,
    inflate: counted,
    hostFirmware: async () => 'bios',
    reboot: () => undefined,
  })['disk.restore-partition-table'];
});

describe('disk.restore-partition-table', () => {
  it("writes the job's own saved ends back onto the disk it owned, found by serial and WWN", async () => {
    const r = await handler({ job: 'job-a', disk: 'S-A', mode: 'raw' }, undefined as never);
    expect(r).toMatchObject({ disk: sda.path, mode: 'raw' });
    expect(head(sda)).toBe('ORIGINAL sda');
    expect(inflates).toBe(2);
  });

  it("accepts the caller's copy only when it is the job's own record, byte for byte", async () => {
    const [own] = await readBackups(jobs.get('job-a')!.dir);
    await handler({ job: 'job-a', disk: sda.path, mode: 'raw', backup: own! }, undefined as never);
    expect(head(sda)).toBe('ORIGINAL sda');
  });

  it('refuses a supplied decompression bomb with a valid checksum before decompressing anything', async () => {
    const [own] = await readBackups(jobs.get('job-a')!.dir);
    const big = Buffer.alloc(32 * MiB); // declared as 1 MiB; inflates 32x past it
    const tail = Buffer.alloc(MiB);
    const bomb: PartitionBackup = {
      ...own!,
      head: { bytes: MiB, gzBase64: gzipSync(big, { level: 9 }).toString('base64') },
      tail: { bytes: MiB, offset: 3 * MiB, gzBase64: gzipSync(tail).toString('base64') },
      sha256: createHash('sha256').update(big).update(tail).digest('hex'),
    };
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw', backup: bomb }, undefined as never))).toBe('ERR_BAD_REQUEST');
    expect(inflates).toBe(0);
    expect(readFileSync(sda.path).length).toBe(4 * MiB);
    expect(readFileSync(sda.path)[0]).toBe(0xaa);
  });

  it("refuses another job's record presented under this job's name", async () => {
    const [ofA] = await readBackups(jobs.get('job-a')!.dir);
    expect(await codeOfAsync(handler({ job: 'job-b', disk: sda.path, mode: 'raw', backup: ofA! }, undefined as never))).toBe('ERR_NOT_FOUND');
    expect(await codeOfAsync(handler({ job: 'job-b', disk: 'S-A', mode: 'raw' }, undefined as never))).toBe('ERR_NOT_FOUND');
    expect(head(sda)[0]).toBe('\xaa');
  });

  it('refuses an unknown job', async () => {
    expect(await codeOfAsync(handler({ job: 'job-x', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_NOT_FOUND');
  });

  it("refuses a record in the job's directory for a disk the job's plan never had", async () => {
    const planted = await backupPartitionTable({ path: sdb.path, sizeBytes: sdb.sizeBytes, serial: sdb.serial, wwn: sdb.wwn }, { run: noTable });
    await saveBackups(jobs.get('job-a')!.dir, [...(await readBackups(jobs.get('job-a')!.dir)), planted]);
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sdb.path, mode: 'raw' }, undefined as never))).toBe('ERR_BAD_REQUEST');
    expect(head(sdb)[0]).toBe('\xaa');
  });

  it('refuses a disk whose WWN is not the one saved, even with the same serial', async () => {
    host = [{ ...sda, wwn: 'W-OTHER' }, sdb];
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_DEVICE_NOT_FOUND');
    expect(head(sda)[0]).toBe('\xaa');
  });

  it('refuses a disk whose serial is not the one saved, even at the same path', async () => {
    host = [{ ...sda, serial: 'S-SWAPPED' }, sdb];
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_DEVICE_NOT_FOUND');
    expect(head(sda)[0]).toBe('\xaa');
  });

  it('refuses while another job holds the disk', async () => {
    jobs.set('job-c', { id: 'job-c', state: 'running', plan: planOf([sda]), dir: join(work, 'jobs', 'job-c') });
    const err = handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never);
    expect(await codeOfAsync(err)).toBe('ERR_DEVICE_BUSY');
    expect(head(sda)[0]).toBe('\xaa');
  });

  it('refuses a disk the host reports in use', async () => {
    host = [{ ...sda, inUse: ['mounted at /mnt'] }, sdb];
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_DEVICE_BUSY');
  });

  it("refuses when the device's own size, read at restore time, is not the saved size", async () => {
    truncateSync(sda.path, 2 * MiB); // the inventory still says 4 MiB
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_BAD_REQUEST');
    expect(readFileSync(sda.path).length).toBe(2 * MiB);
    expect(inflates).toBe(0);
  });

  it('refuses a stored record whose tail lies beyond the end of the disk, before decompressing', async () => {
    const dir = jobs.get('job-a')!.dir;
    const [own] = await readBackups(dir);
    await saveBackups(dir, [{ ...own!, tail: { ...own!.tail, offset: 4 * MiB } }]);
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_BAD_REQUEST');
    expect(readFileSync(sda.path).length).toBe(4 * MiB);
    expect(inflates).toBe(0);
  });

  it('refuses while the job that owned the disk still runs', async () => {
    jobs.get('job-a')!.state = 'running';
    expect(await codeOfAsync(handler({ job: 'job-a', disk: sda.path, mode: 'raw' }, undefined as never))).toBe('ERR_JOB_STATE');
  });
});
