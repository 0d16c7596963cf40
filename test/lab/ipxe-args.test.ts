// The outer VM's command line when it network-boots (pure; the iPXE boot itself is ipxe-boot.test.ts).
import { describe, expect, it } from 'vitest';
import { buildOuterVmArgs, type OuterVmSpec } from './outer-vm-args.js';

const spec: OuterVmSpec = {
  kernel: '/k', initrd: '/i', memoryMiB: 2560, agentHostPort: 17443, controlSocket: '/tmp/lab.sock',
  disks: [{ serial: 'S1', file: '/tmp/nvme0.img' }],
  guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 80, cmd: 'socat - TCP:127.0.0.1:8080' }],
};

describe('outer VM arguments for a network boot', () => {
  it('boots from the NIC with its iPXE ROM and the DHCP boot file, without -kernel/-initrd', () => {
    const args = buildOuterVmArgs({ ...spec, netboot: { bootfile: 'http://10.0.2.100/boot.ipxe' } });
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-initrd');
    expect(args).not.toContain('-append');
    expect(args[args.indexOf('-boot') + 1]).toBe('n');
    const netdev = args[args.indexOf('-netdev') + 1]!;
    expect(netdev).toMatch(/^user,id=mgmt,restrict=on,/);
    expect(netdev).toMatch(/,guestfwd=tcp:10\.0\.2\.100:80-cmd:socat - TCP:127\.0\.0\.1:8080,bootfile=http:\/\/10\.0\.2\.100\/boot\.ipxe$/);
    expect(args.find((a) => a.startsWith('virtio-net-pci,'))).not.toMatch(/romfile=/);
  });

  it('keeps the direct kernel boot without a ROM on the NIC otherwise', () => {
    const args = buildOuterVmArgs(spec);
    expect(args).toContain('-kernel');
    expect(args).not.toContain('-boot');
    expect(args.find((a) => a.startsWith('virtio-net-pci,'))).toMatch(/romfile=,/);
  });
});
