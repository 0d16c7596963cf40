import { describe, expect, it } from 'vitest';
import { iommuArgs, renderIpxeScript } from '../../../alpine/index.js';

const base = 'http://vendor.example:8080/v1/rescue';
const input = {
  kernelUrl: `${base}/vmlinuz-lts`,
  initrdUrl: `${base}/initramfs-lts`,
  modloopUrl: `${base}/modloop-lts`,
  apkovlUrl: `${base}/apkovl/rack4-node17.tar.gz`,
  alpineRepo: 'http://vendor.example:8080/alpine/v3.20/main',
};

describe('the iPXE script template', () => {
  it('boots the Alpine kernel and initramfs with the apkovl, modloop, repository and IOMMU switches', () => {
    const s = renderIpxeScript(input);
    expect(s.startsWith('#!ipxe\n')).toBe(true);
    const kernel = s.split('\n').find((l) => l.startsWith('kernel '))!;
    expect(kernel).toContain(`kernel ${input.kernelUrl} `);
    expect(kernel).toContain(`apkovl=${input.apkovlUrl}`);
    expect(kernel).toContain(`modloop=${input.modloopUrl}`);
    expect(kernel).toContain(`alpine_repo=${input.alpineRepo}`);
    expect(kernel).toContain('ip=dhcp');
    expect(kernel).toContain('intel_iommu=on');
    expect(kernel).toContain('amd_iommu=on');
    expect(kernel).toContain('iommu=pt');
    expect(s).toContain(`initrd --name initrd.magic ${input.initrdUrl}`);
    expect(s).toMatch(/^boot /m);
  });

  it('puts only the chosen vendor\'s IOMMU switch when asked', () => {
    expect(iommuArgs('intel')).toEqual(['intel_iommu=on', 'iommu=pt']);
    expect(iommuArgs('amd')).toEqual(['amd_iommu=on', 'iommu=pt']);
  });

  it('refuses URLs that would change the script (spaces, iPXE settings)', () => {
    expect(() => renderIpxeScript({ ...input, apkovlUrl: 'http://x/a b' })).toThrow(/must not contain/);
    expect(() => renderIpxeScript({ ...input, kernelUrl: 'http://${next-server}/k' })).toThrow(/must not contain/);
  });
});
