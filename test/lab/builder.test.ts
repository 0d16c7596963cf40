// The lab's building blocks without booting anything: the cached rescue image and what it holds, the per-boot
// overlay cpio, and the outer VM's command line for both topologies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { overlayEntries, envFile } from './boot-overlay.js';
import { writeCpioNewc } from './cpio-newc.js';
import { buildOuterVmArgs, pciLayout } from './outer-vm-args.js';
import { ensureRescueImage } from './rescue-image.js';

const work = mkdtempSync(join(tmpdir(), 'xepa-lab-builder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Lists a cpio archive (optionally zstd-compressed) with the host's cpio, an independent reader. zstd's stderr is
// dropped: it warns about the zero padding after the frame (which the kernel skips).
function listCpio(file: string, zstd: boolean): string[] {
  const cmd = zstd ? `zstd -dc '${file}' 2>/dev/null | cpio -it --quiet` : `cpio -it --quiet < '${file}'`;
  return execFileSync('sh', ['-c', cmd], { maxBuffer: 64 << 20 }).toString().split('\n').filter(Boolean);
}

describe('the lab rescue image', () => {
  it('is built once and then served from the cache under the same key', async () => {
    const first = await ensureRescueImage({});
    const second = await ensureRescueImage({});
    expect(second.cached).toBe(true);
    expect(second.key).toBe(first.key);
    expect(second.initrd).toBe(first.initrd);
    process.stdout.write(`[lab builder] rescue image ${first.key}: ${first.cached ? 'cached' : 'built'}, build took ${first.buildSeconds.toFixed(1)} s, ` +
      `${(first.sizeBytes / 2 ** 20).toFixed(1)} MiB\n`);
  });

  it('holds the init, Node, QEMU with its TCG module and firmware, sfdisk, and the vfio, KVM and NIC modules', async () => {
    const image = await ensureRescueImage({});
    const names = listCpio(image.initrd, true).map((n) => n.replace(/^\.\//, ''));
    const has = (re: RegExp): boolean => names.some((n) => re.test(n));
    for (const want of [
      /^init$/, /^usr\/bin\/node$/, /^usr\/bin\/qemu-system-x86_64$/, /^usr\/lib\/x86_64-linux-gnu\/qemu\/accel-tcg-x86_64\.so$/,
      /^usr\/share\/seabios\/bios-256k\.bin$/, /^usr\/lib\/ipxe\/qemu\/efi-e1000e\.rom$/, /^usr\/sbin\/sfdisk$/, /^usr\/bin\/kmod$/,
      /\/vfio-pci\.ko$/, /\/vfio_iommu_type1\.ko$/, /\/kvm-amd\.ko$/, /\/virtio_net\.ko$/, /\/virtio_console\.ko$/, /modules\.dep$/,
      new RegExp(`^boot/vmlinuz-${image.kernelRelease.replace(/\./g, '\\.')}$`),
    ]) {
      expect(has(want), `rescue image lacks ${want}`).toBe(true);
    }
    // No agent in the cached image: it comes with each boot's overlay.
    expect(has(/xepa-agent\.mjs$/)).toBe(false);
  });
});

describe('the boot overlay', () => {
  it('is a cpio the host cpio reads back, with the bundle, the agent config and the lab env', async () => {
    const bundle = join(work, 'agent.mjs');
    writeFileSync(bundle, 'console.log("agent")\n');
    const entries = await overlayEntries({ agentBundle: bundle, agentConfig: { agentId: 'lab-x', trustedKeys: ['k'] }, env: { XEPA_AGENT_ARGS: "--log-level 'debug'" } });
    const file = join(work, 'overlay.cpio');
    writeFileSync(file, writeCpioNewc(entries));
    expect(listCpio(file, false)).toEqual(['etc', 'opt', 'etc/xepa', 'opt/xepa', 'opt/xepa/xepa-agent.mjs', 'etc/xepa/agent.json', 'etc/xepa/lab.env']);
    const config = execFileSync('sh', ['-c', `cpio -i --quiet --to-stdout etc/xepa/agent.json < '${file}'`]).toString();
    expect(JSON.parse(config)).toEqual({ agentId: 'lab-x', trustedKeys: ['k'] });
    const env = execFileSync('sh', ['-c', `cpio -i --quiet --to-stdout etc/xepa/lab.env < '${file}' > '${work}/lab.env'; . '${work}/lab.env'; printf %s "$XEPA_AGENT_ARGS"`]).toString();
    expect(env).toBe("--log-level 'debug'");
    expect(writeCpioNewc(entries).length % 4).toBe(0);
    expect(() => envFile({ 'BAD NAME': 'x' })).toThrow(/bad variable name/);
  });
});

describe('the outer VM command line', () => {
  const base = { kernel: 'vmlinuz', initrd: 'initrd.img', memoryMiB: 2048, agentHostPort: 17443, controlSocket: '/tmp/x/lab.sock' };

  it('puts every disk on the root complex (own IOMMU groups) when none shares the NIC group', () => {
    const args = buildOuterVmArgs({ ...base, disks: [{ serial: 'A', file: '/d/a.img' }] }).join(' ');
    expect(args).toContain('-accel tcg,thread=multi');
    expect(args).toContain('-device intel-iommu,intremap=on,caching-mode=on');
    expect(args).toMatch(/-append console=ttyS0 intel_iommu=on iommu=pt /);
    expect(args).toContain('nvme,serial=A,drive=nvm0,bus=pcie.0,addr=0x4');
    expect(args).toMatch(/user,id=mgmt,restrict=on,hostfwd=tcp:127\.0\.0\.1:17443-:7443 /);
    expect(args).not.toContain('pcie-pci-bridge');
  });

  it('puts the management NIC and the shared-group disks behind one pcie-pci-bridge', () => {
    const spec = { ...base, disks: [{ serial: 'A', file: '/d/a.img' }, { serial: 'B', file: '/d/b,c.img', sharesGroupWithNic: true }] };
    expect(pciLayout(spec)).toEqual({
      nic: { bus: 'bridge', slot: 1 },
      disks: [{ serial: 'A', bus: 'root', slot: 4 }, { serial: 'B', bus: 'bridge', slot: 2 }],
      bridge: true,
    });
    const args = buildOuterVmArgs(spec).join(' ');
    expect(args).toContain('-device pcie-pci-bridge,id=br1,bus=rp1');
    expect(args).toContain('virtio-net-pci,netdev=mgmt,romfile=,bus=br1,addr=0x1');
    expect(args).toContain('-drive file=/d/b,,c.img,if=none,id=nvm1');
    expect(args).toContain('nvme,serial=B,drive=nvm1,bus=br1,addr=0x2');
    expect(() => buildOuterVmArgs({ ...spec, guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 80, cmd: 'a,b' }] })).toThrow(/comma/);
  });
});
