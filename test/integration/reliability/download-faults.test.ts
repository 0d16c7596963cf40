import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLoopDisk, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { XepaError, type JobSummary } from '../../../agent/protocol/index.js';
import { agentBench } from './helpers/agent-bench.js';
import { fakeIso, watchJob } from './helpers/agent-harness.js';
import { startFaultServer, type FaultServer, type Reply } from './helpers/fault-server.js';
import { canOpenExclusive } from './helpers/processes.js';

// Download faults at the level of the whole job, against the real agent: a bad download ends the job failed
// with its code, and no partial or wrong ISO ever boots (no `booting` event, no disk claimed, nothing left in the
// ISO directory under the expected digest). The fetcher's own resume/retry/timeout cases are proven in
// test/integration/iso/fetch.test.ts and fetch-edges.test.ts; these add what only the job can show.
const bench = agentBench('xepa-dl-faults-');
let disk: LoopDisk;

beforeAll(async () => {
  disk = bench.hold(await createLoopDisk(join(bench.work, 'disk.img'), 16));
});

const serve = async (reply: (n: number) => Reply): Promise<FaultServer> => bench.hold(await startFaultServer(reply));
// Files in the agent's ISO directory for this digest: the verified `<sha>.iso`, or a `.part` kept for a resume.
const isoFiles = (sha: string): string[] => readdirSync(join(bench.h.stateDir, 'isos')).filter((f) => f.startsWith(sha));

// Runs an install to its end and returns its summary and the states it went through.
async function installToEnd(iso: { url: string; sha256: string; size?: number }): Promise<{ end: JobSummary; states: string[] }> {
  const job = await bench.client.call('install', { iso, disks: [{ path: disk.device }], vm: { memoryMiB: 256 } });
  const w = watchJob(bench.client, job.id);
  await w.done;
  return { end: await bench.client.call('job.get', { job: job.id }), states: w.states() };
}

describe('download faults end the job before anything boots', () => {
  it('refetches a file that changed on the server between a cut and the resume (new Last-Modified), and refuses it by digest', async () => {
    const v1 = fakeIso(2 << 20);
    const v2 = fakeIso(2 << 20);
    const s = await serve((n) =>
      n === 0
        ? { body: v1.body, lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT', cutAfter: 512 << 10 }
        : { body: v2.body, lastModified: 'Tue, 02 Jan 2024 00:00:00 GMT' },
    );
    const { end, states } = await installToEnd({ url: s.url, sha256: v1.sha256 });
    expect(end.error?.code).toBe('ERR_FETCH_DIGEST');
    expect(end.state).toBe('failed');
    expect(states).not.toContain('booting');
    expect(states).not.toContain('binding');
    expect(s.requests[1]).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: 'Mon, 01 Jan 2024 00:00:00 GMT' });
    expect(s.requests[2]?.range).toBeUndefined(); // started over from byte 0 once it saw the change
    expect(isoFiles(v1.sha256)).toEqual([]);
    expect(await canOpenExclusive(disk.device)).toBe(true);
  });

  it('refuses a server that announces fewer bytes than the file has (Content-Length lie): ERR_FETCH_DIGEST, no boot', async () => {
    const iso = fakeIso(1 << 20);
    const s = await serve(() => ({ body: iso.body, contentLength: iso.body.length - 4096 }));
    const { end, states } = await installToEnd({ url: s.url, sha256: iso.sha256 });
    expect(end.error?.code).toBe('ERR_FETCH_DIGEST');
    expect(states).not.toContain('booting');
    expect(isoFiles(iso.sha256)).toEqual([]);
  });

  it('refuses a server whose Content-Length contradicts the size in the request before writing a byte: ERR_FETCH_SIZE', async () => {
    const iso = fakeIso(1 << 20);
    const s = await serve(() => ({ body: iso.body }));
    const { end, states } = await installToEnd({ url: s.url, sha256: iso.sha256, size: iso.body.length + 1 });
    expect(end.error?.code).toBe('ERR_FETCH_SIZE');
    expect(states).not.toContain('booting');
    expect(s.requests).toHaveLength(1); // a contradiction is not retried
    expect(isoFiles(iso.sha256)).not.toContain(`${iso.sha256}.iso`); // an empty .part may stay for a later resume
  });

  it('refuses an ISO larger than the space for it before the first request: ERR_NO_SPACE, no boot', async () => {
    const iso = fakeIso(4096);
    const s = await serve(() => ({ body: iso.body }));
    const { end, states } = await installToEnd({ url: s.url, sha256: iso.sha256, size: 2 ** 50 });
    expect(['ERR_NO_SPACE', 'ERR_NO_MEMORY']).toContain(end.error?.code);
    expect(end.error?.message).toMatch(/the ISO (needs|\()/);
    expect(states).not.toContain('booting');
    expect(s.requests).toHaveLength(0);
  });

  it('refuses an install onto a disk that does not exist before any download: ERR_DEVICE_NOT_FOUND, no job', async () => {
    const before = (await bench.client.call('job.list', {})).jobs.length;
    let code: string | undefined;
    try {
      await bench.client.call('install', { iso: { url: 'http://127.0.0.1:9/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/xepa-no-such-disk' }] });
    } catch (err) {
      code = (err as XepaError).code;
    }
    expect(code).toBe('ERR_DEVICE_NOT_FOUND');
    expect((await bench.client.call('job.list', {})).jobs.length).toBe(before);
  });
});
