import { describe, expect, it } from 'vitest';
import { loadModules } from '../../../controller/vendor/index.js';
import { compareVersions, parseDirectoryListing, parseJsonApi, parseReleaseFeed, pickLatest } from '../../../controller/vendor/upstream/index.js';

const modules = (await loadModules()).modules;
const src = <K extends string>(name: string): Extract<NonNullable<ReturnType<typeof modules.get>>['upstream']['source'], { kind: K }> =>
  modules.get(name)!.upstream.source as never;

describe('release sources', () => {
  it('reads GitHub releases for Talos, skipping drafts and pre-releases', () => {
    const doc = [
      { tag_name: 'v1.9.0-alpha.1', prerelease: true, draft: false },
      { tag_name: 'v1.8.3', prerelease: false, draft: false },
      { tag_name: 'v1.8.4', prerelease: false, draft: true },
      { tag_name: '../../etc', prerelease: false, draft: false },
    ];
    expect(parseJsonApi(doc, src<'json-api'>('talos'), {}).map((r) => r.version)).toEqual(['v1.8.3']);
  });

  it("reads a Hydra build for NixOS: the build id is the version, products become assets with URLs and digests", () => {
    const doc = { id: 281234, buildproducts: { '1': { name: 'bzImage', sha256hash: 'a'.repeat(64) }, '2': { name: 'initrd', sha256hash: 'b'.repeat(64) } } };
    const [rel] = parseJsonApi(doc, src<'json-api'>('nixos'), { 'base.hydra': 'https://hydra.example' });
    expect(rel?.version).toBe('281234');
    expect(rel?.assets?.get('initrd')).toEqual({ url: 'https://hydra.example/build/281234/download/2/initrd', digest: 'b'.repeat(64) });
  });

  it('reads FreeBSD versions from an autoindex listing, ignoring other links', () => {
    const html = '<a href="../">../</a><a href="13.4/">13.4/</a> <a href="14.1/">14.1/</a><a href="README.TXT">x</a><a href="mailto:x">m</a><a href="/releases/amd64/14.2/">14.2</a>';
    expect(parseDirectoryListing(html, src<'directory-listing'>('freebsd').versionPattern).sort()).toEqual(['13.4', '14.1', '14.2']);
  });

  it("reads Flatcar's version.txt and Alpine's latest-releases.yaml", () => {
    expect(parseReleaseFeed('FLATCAR_BUILD=3975\nFLATCAR_VERSION=3975.2.0\nFLATCAR_VERSION_ID=3975.2.0\n', src<'release-feed'>('flatcar'))).toEqual(['3975.2.0']);
    const yaml = '---\n-\n  title: "Netboot"\n  flavor: alpine-netboot\n  version: 3.20.3\n-\n  flavor: alpine-virt\n  version: 3.20.3\n';
    expect(parseReleaseFeed(yaml, src<'release-feed'>('alpine'))).toEqual(['3.20.3']);
  });

  it('reads Atom entry titles with a version pattern', () => {
    const atom = '<feed><title>Releases</title><entry><title>Release v1.2.0</title></entry><entry><title type="html">v1.1.0 &amp; notes</title></entry></feed>';
    expect(parseReleaseFeed(atom, { kind: 'release-feed', url: 'x', format: 'atom', versionPattern: 'v(\\d+\\.\\d+\\.\\d+)' })).toEqual(['1.2.0', '1.1.0']);
  });
});

describe('versions', () => {
  it('orders numerically, with pre-releases before their release', () => {
    expect(['v1.9.0', 'v1.10.0', 'v1.10.0-rc1', 'v1.2.3'].sort(compareVersions)).toEqual(['v1.2.3', 'v1.9.0', 'v1.10.0-rc1', 'v1.10.0']);
    expect(compareVersions('3975.2.0', '3975.10.1')).toBeLessThan(0);
  });

  it('picks the latest that matches include and not exclude, never an unsafe name', () => {
    expect(pickLatest(['v1.8.0', 'v1.9.0-beta.0', 'v1.8.3'], { include: '^v\\d+\\.\\d+\\.\\d+$' })).toBe('v1.8.3');
    expect(pickLatest(['1.0', '9.9/../x'])).toBe('1.0');
    expect(pickLatest([])).toBeUndefined();
  });
});
