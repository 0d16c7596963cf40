import { describe, expect, it } from 'vitest';
import { loadModules } from '../../../controller/vendor/index.js';
import { kernelArgsFromIpxe, renderCmdline } from '../../../controller/vendor/os/cmdline.js';
import { expandTemplate, versionVars } from '../../../controller/vendor/os/templates.js';
import { codeOf } from '../../support/error-code.js';

describe('module templates', () => {
  it('fills version parts and bases', () => {
    expect(expandTemplate('{base.cdn}/v{major}.{minor}/x-{version}', { 'base.cdn': 'https://cdn', ...versionVars('3.20.3') })).toBe('https://cdn/v3.20/x-3.20.3');
    expect(versionVars('v1.8.0')).toMatchObject({ major: '1', minor: '8', patch: '0' });
  });

  it('drops an optional [[ ]] part whose value is unknown, and fails on an unknown value outside one', () => {
    expect(expandTemplate('a [[config={config}]] b', { config: undefined })).toBe('a b');
    expect(expandTemplate('a [[config={config}]] b', { config: 'http://x/c' })).toBe('a config=http://x/c b');
    expect(codeOf(() => expandTemplate('{nope}', {}))).toBe('ERR_MODULE_INVALID');
  });

  it('takes init= from an upstream iPXE script without initrd= or iPXE variables', () => {
    const script = '#!ipxe\n# comment\nkernel bzImage init=/nix/store/abc-nixos-system/init initrd=initrd nohibernate loglevel=4 ${cmdline}\ninitrd initrd\nboot\n';
    expect(kernelArgsFromIpxe(script)).toEqual(['init=/nix/store/abc-nixos-system/init', 'nohibernate', 'loglevel=4']);
  });

  it('renders the Alpine command line with the modloop URL and, per host, the apkovl', async () => {
    const alpine = (await loadModules()).modules.get('alpine')!;
    const fileUrl = (n: string): string => `http://ctl/vendor/v1/files/alpine/3.20.3/${n}`;
    const plain = renderCmdline(alpine, { version: '3.20.3', fileUrl });
    expect(plain).toContain('modloop=http://ctl/vendor/v1/files/alpine/3.20.3/modloop-lts');
    expect(plain).toContain('alpine_repo=https://dl-cdn.alpinelinux.org/alpine/v3.20/main');
    expect(plain).not.toContain('apkovl');
    expect(renderCmdline(alpine, { version: '3.20.3', fileUrl, host: 'node1', configUrl: 'http://ctl/c' })).toContain('apkovl=http://ctl/c');
  });
});
