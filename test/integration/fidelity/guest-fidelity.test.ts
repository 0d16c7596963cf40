// From inside the guest: the probe variant of the test ISO prints what the installer sees (SMBIOS, boot mode,
// TPM, NIC MAC, labelled media) and these tests compare it with what the host (a synthetic one) and the job said.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PACKAGES, ensureDebianPackages } from '../../../build/host-deps.js';
import { ensureTestIso, TEST_ISO_PACKAGES, type TestIso } from '../../../build/test-iso/index.js';
import { Sysfs } from '../../../agent/host/index.js';
import { SYNTHETIC_IDENTITY as ID } from '../../unit/fidelity/synthetic-dmi.js';
import { fakeHostSysfs, runFileJob } from './file-job.js';
import { readProbe } from './probe-lines.js';

const log = pino({ level: 'warn' });
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const USER_DATA = '#cloud-config\nhostname: xepa-fidelity\n';
const SERVER_MAC = 'b4:96:91:00:00:01';
let iso: TestIso;
let work = '';

beforeAll(async () => {
  await ensureDebianPackages([...new Set([...DEMO_PACKAGES, ...TEST_ISO_PACKAGES, 'grub-efi-amd64-bin', 'swtpm', 'fdisk'])]);
  iso = await ensureTestIso({ kernel: 'generic', firmware: 'both', probe: true, log: (l) => console.log(`[test-iso] ${l}`) });
  work = await mkdtemp(join(tmpdir(), 'xepa-fidelity-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// A host sysfs with the synthetic server's SMBIOS table and, when asked, a TPM 2.0.
const fakeHost = (name: string, o: { tpm: boolean; entryPoint: '_SM_' | '_SM3_' }): Promise<Sysfs> => fakeHostSysfs(join(work, name, 'sys'), o);

// Runs one install job of the probe ISO onto a disk image, the way the agent does (real QEMU, TCG).
async function runJob(name: string, firmware: 'bios' | 'uefi', sysfs: Sysfs) {
  const { job, plan, serialLog } = await runFileJob({
    dir: join(work, name), name, sysfs, log,
    iso: { path: iso.iso, sha256: iso.sha256, size: iso.size },
    server: { firmware, mac: SERVER_MAC, cpu: { model: 'Intel Xeon Gold 6338', cores: 32, threads: 64 } },
    request: {
      vm: { accel: 'tcg', memoryMiB: 768, cpus: 1 },
      answer: { kind: 'cloud-init', files: [{ path: 'user-data', content: USER_DATA }] },
      keys: [{ waitMs: 100 }, { keys: ['shift'] }],
    },
  });
  const probe = await readProbe(serialLog);
  return { job, plan, probe, messages: job.events.events.map((e) => e.message) };
}

describe('what the installer sees in the VM', () => {
  it('under SeaBIOS: the server\'s SMBIOS identity, BIOS boot, its MAC, the CIDATA medium, no TPM', async () => {
    const r = await runJob('bios', 'bios', await fakeHost('bios', { tpm: false, entryPoint: '_SM_' }));
    expect(r.job.state, r.probe.text.slice(-2000)).toBe('done');
    expect(r.probe.complete).toBe(true);
    const f = r.probe.facts;
    expect(f['firmware']).toBe('bios');
    expect([f['dmi.sys_vendor'], f['dmi.product_name'], f['dmi.product_serial'], f['dmi.product_uuid']]).toEqual([ID.sysVendor, ID.productName, ID.productSerial, ID.productUuid]);
    expect([f['dmi.board_name'], f['dmi.board_serial'], f['dmi.chassis_serial'], f['dmi.chassis_asset_tag']]).toEqual([ID.boardName, ID.boardSerial, ID.chassisSerial, ID.chassisAsset]);
    expect([f['dmi.bios_vendor'], f['dmi.bios_version']]).toEqual([ID.biosVendor, ID.biosVersion]);
    expect(f['tpm']).toBe('none');
    expect(f['nic.eth0']).toBe(SERVER_MAC);
    expect(f['medium.CIDATA']).toMatch(/^\/dev\/sr\d iso9660$/);
    expect(f['medium.CIDATA.file.user-data']).toBe(sha(USER_DATA));
    expect(f['medium.CIDATA.file.meta-data']).toBe(sha(`instance-id: xepa-${r.job.id}\n`));
    expect(r.messages).toContain('boot-menu keystrokes typed (1 key press(es))');
    expect(r.messages.some((m) => /^saved before the install: .*disk\.img \(no partition table\)/.test(m))).toBe(true);
  });

  it('under OVMF (TCG): UEFI boot, the SMBIOS 3 identity, a TPM 2.0 from swtpm that is stopped afterwards', async () => {
    const r = await runJob('uefi', 'uefi', await fakeHost('uefi', { tpm: true, entryPoint: '_SM3_' }));
    expect(r.job.state, r.probe.text.slice(-2000)).toBe('done');
    expect(r.plan.fidelity).toMatchObject({ firmware: { vm: 'uefi' }, tpm: { vm: true }, smbios: { source: 'host' } });
    const f = r.probe.facts;
    expect(f['firmware']).toBe('uefi');
    expect(f['secureboot']).toBe('0');
    expect([f['dmi.sys_vendor'], f['dmi.product_serial'], f['dmi.product_uuid'], f['dmi.board_serial']]).toEqual([ID.sysVendor, ID.productSerial, ID.productUuid, ID.boardSerial]);
    expect(f['tpm']).toBe('2');
    expect(f['medium.CIDATA.file.user-data']).toBe(sha(USER_DATA));
    const pid = Number(/swtpm pid (\d+)/.exec(r.messages.join('\n'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrowError(expect.objectContaining({ code: 'ESRCH' }));
    expect(await readFile(join(work, 'uefi', 'jobs', r.job.id, 'smbios', '01-type1.bin'))).toHaveLength(27 + [ID.sysVendor, ID.productName, ID.productVersion, ID.productSerial, ID.productSku, ID.productFamily].join('\0').length + 2);
  });
});
