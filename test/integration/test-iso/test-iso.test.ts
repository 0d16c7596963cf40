// The test installer ISO, for real: built from Debian packages, installed in QEMU (TCG), and the result booted.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PACKAGES, ensureDebianPackages } from '../../../build/host-deps.js';
import { ensureTestIso, INSTALLED_MARKER, INSTALLER_DONE, INSTALLER_FAILED, TEST_ISO_PACKAGES, type TestIso } from '../../../build/test-iso/index.js';
import { bootDiskUntilMarker } from '../../../controller/qemu/index.js';
import { runInstaller } from './run-installer.js';

const report = (line: string): void => console.log(`[test-iso] ${line}`);
let work = '';
let iso: TestIso;
let buildSeconds = 0;

beforeAll(async () => {
  // CI runs as root on a fresh Debian machine: install what the builder needs (a no-op when present).
  await ensureDebianPackages([...TEST_ISO_PACKAGES, 'qemu-system-x86', 'seabios']);
  work = await fsp.mkdtemp(join(tmpdir(), 'xepa-test-iso-'));
  const started = Date.now();
  iso = await ensureTestIso({ log: report });
  buildSeconds = (Date.now() - started) / 1000;
  report(`ensureTestIso: ${buildSeconds.toFixed(1)} s (cached: ${iso.cached}), ${iso.size} bytes, kernel ${iso.kernelVersion}`);
});

afterAll(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function blankDisk(name: string, mib: number): Promise<string> {
  const path = join(work, name);
  await fsp.writeFile(path, '');
  await fsp.truncate(path, mib * 1024 * 1024);
  return path;
}

async function sameBytes(disk: string, image: string): Promise<boolean> {
  const want = await fsp.readFile(image);
  const fd = await fsp.open(disk, 'r');
  try {
    const got = Buffer.alloc(want.length);
    await fd.read(got, 0, want.length, 0);
    return got.equals(want);
  } finally {
    await fd.close();
  }
}

describe('the test installer ISO', () => {
  it('is a bootable ISO9660 image whose manifest matches its bytes', async () => {
    const head = Buffer.alloc(8);
    const fd = await fsp.open(iso.iso, 'r');
    await fd.read(head, 0, 5, 0x8001);
    await fd.close();
    expect(head.subarray(0, 5).toString()).toBe('CD001');
    expect((await fsp.stat(iso.iso)).size).toBe(iso.size);
    expect(iso.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(iso.marker).toBe(INSTALLED_MARKER);
    expect(iso.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  });

  it('comes from the cache on the second call, instantly and unchanged', async () => {
    const started = Date.now();
    const again = await ensureTestIso();
    const seconds = (Date.now() - started) / 1000;
    report(`cached ensureTestIso: ${seconds.toFixed(2)} s`);
    expect(again.cached).toBe(true);
    expect(again.iso).toBe(iso.iso);
    expect(again.sha256).toBe(iso.sha256);
    expect(seconds).toBeLessThan(5);
  });

  it('writes the system image to a virtio disk, reports the target and powers off', async () => {
    const disk = await blankDisk('virtio.raw', 64);
    const run = await runInstaller({ iso: iso.iso, disk: { path: disk, bus: 'virtio', serial: 'XEPAVIRTIO01' }, timeoutMs: 150_000 });
    report(`install on virtio: ${run.seconds.toFixed(1)} s`);
    expect(run.exitedByItself, run.serial.slice(-2000)).toBe(true);
    expect(run.serial).toMatch(/XEPA-INSTALLER: target \/dev\/vda \(serial XEPAVIRTIO01\), writing \d+ MiB/);
    expect(run.serial).toContain(INSTALLER_DONE);
    expect(await sameBytes(disk, iso.systemImage)).toBe(true);

    const boot = await bootDiskUntilMarker({ disk, marker: INSTALLED_MARKER, timeoutMs: 120_000 });
    report(`boot of the installed disk: ${boot.seconds.toFixed(1)} s`);
    expect(boot.ok, boot.serialTail.join('\n')).toBe(true);
    expect(boot.serialTail.join('\n')).toContain(`${INSTALLED_MARKER} kernel=${iso.kernelVersion}`);
  });

  it('finds an NVMe disk as its target', async () => {
    const disk = await blankDisk('nvme.raw', 64);
    const run = await runInstaller({ iso: iso.iso, disk: { path: disk, bus: 'nvme', serial: 'XEPANVME01' }, timeoutMs: 150_000 });
    report(`install on nvme: ${run.seconds.toFixed(1)} s`);
    expect(run.serial).toMatch(/XEPA-INSTALLER: target \/dev\/nvme0n1 \(serial XEPANVME01\)/);
    expect(run.serial).toContain(INSTALLER_DONE);
    expect(await sameBytes(disk, iso.systemImage)).toBe(true);
  });

  it('refuses a disk smaller than the system image, says so and powers off', async () => {
    const disk = await blankDisk('tiny.raw', 4);
    const run = await runInstaller({ iso: iso.iso, disk: { path: disk, bus: 'virtio', serial: 'XEPATINY01' }, timeoutMs: 150_000 });
    report(`install with no usable disk: ${run.seconds.toFixed(1)} s`);
    expect(run.exitedByItself).toBe(true);
    expect(run.serial).toContain(`${INSTALLER_FAILED}: no target disk`);
    expect(run.serial).not.toContain(INSTALLER_DONE);
    expect((await fsp.readFile(disk)).every((b) => b === 0)).toBe(true);
  });
});

describe('the test installer ISO with the generic Debian kernel', () => {
  it('finds a SATA disk behind AHCI (which the cloud kernel cannot drive) and the result boots', async () => {
    const generic = await ensureTestIso({ kernel: 'generic', log: report });
    expect(generic.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    const disk = await blankDisk('sata.raw', 64);
    const run = await runInstaller({ iso: generic.iso, disk: { path: disk, bus: 'sata', serial: 'XEPASATA01' }, timeoutMs: 150_000 });
    report(`install on sata (generic kernel): ${run.seconds.toFixed(1)} s`);
    expect(run.serial).toMatch(/XEPA-INSTALLER: target \/dev\/sda \(serial \S*XEPASATA01\S*\)/);
    expect(run.serial).toContain(INSTALLER_DONE);
    expect(await sameBytes(disk, generic.systemImage)).toBe(true);
    const boot = await bootDiskUntilMarker({ disk, marker: INSTALLED_MARKER, timeoutMs: 120_000 });
    report(`boot of the installed disk (generic kernel): ${boot.seconds.toFixed(1)} s`);
    expect(boot.ok, boot.serialTail.join('\n')).toBe(true);
  });
});

describe('bootDiskUntilMarker', () => {
  it('returns ok:false after its timeout when the disk does not boot, and leaves no QEMU behind', async () => {
    const disk = await blankDisk('empty.raw', 16);
    let qemu: ChildProcess | undefined;
    const spawnSpy = ((...args: Parameters<typeof spawn>) => (qemu = spawn(...args))) as typeof spawn;
    const boot = await bootDiskUntilMarker({ disk, marker: INSTALLED_MARKER, timeoutMs: 4_000, spawn: spawnSpy });
    expect(boot.ok).toBe(false);
    expect(qemu?.pid).toBeTypeOf('number');
    expect(qemu?.exitCode !== null || qemu?.signalCode !== null).toBe(true);
    expect(() => process.kill(qemu!.pid!, 0)).toThrow();
    expect(boot.seconds).toBeGreaterThanOrEqual(3.9);
    expect(boot.seconds).toBeLessThan(30);
  });

  it('rejects a disk path that does not exist with ERR_NOT_FOUND', async () => {
    await expect(bootDiskUntilMarker({ disk: join(work, 'missing.raw'), marker: 'x', timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});

describe('DEMO_PACKAGES', () => {
  it('covers every package the test ISO builder needs', () => {
    for (const pkg of TEST_ISO_PACKAGES) expect(DEMO_PACKAGES).toContain(pkg);
  });
});
