// The lab's OpenRC rescue image: the base rescue image (rescue-image.ts) with a second initramfs layer built by
// openrc-layer.sh (Debian's openrc, the xepa-agent service rendered by alpine/, busybox init + OpenRC runlevels).
// Cached under <cache>/lab keyed on the base image, the openrc package versions, the script and the service text.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XepaError } from '../../agent/protocol/errors.js';
import { rescueArtifacts, writeRescueArtifacts } from '../../alpine/index.js';
import { runBuildScript } from '../../build/test-iso/run-script.js';
import { buildKey, labCacheRoot, makeBuildTemp, readLabManifest } from './lab-cache.js';
import { ensureRescueImage, labScriptHash, publishImage, toImage, type EnsureRescueOptions, type ImageManifest, type RescueImage } from './rescue-image.js';

// The layer's builder script; its hash (with lab-init.sh's) is part of the cache key.
export const OPENRC_LAYER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'openrc-layer.sh');
const PREFIX = 'openrc';

interface OpenrcManifest extends ImageManifest {
  base: string;
  openrcVersions: string;
  builtAt: string;
}

// Returns the OpenRC variant of the rescue image (same kernel; initrd = base image + OpenRC layer), building it
// first when missing (~5-10 s on top of the base image).
export async function ensureOpenrcRescueImage(opts: EnsureRescueOptions = {}): Promise<RescueImage> {
  const root = opts.cacheDir ?? labCacheRoot();
  const debDir = opts.debDir ?? join(dirname(root), 'debs');
  const deps = { spawn: opts.spawn, log: opts.log };
  const base = await ensureRescueImage(opts);
  const resolved = await runBuildScript(OPENRC_LAYER_SCRIPT, ['resolve'], deps);
  const versions = resolved.values.OPENRC_VERSIONS;
  if (resolved.code !== 0 || !versions) {
    throw new XepaError('ERR_CONFIG', `cannot resolve Debian's openrc packages: ${resolved.stderrTail.at(-1) ?? 'apt-cache failed'}`);
  }
  const service = rescueArtifacts().filter((a) => a.name.startsWith('xepa-agent.'));
  const key = buildKey(PREFIX, {
    base: base.key,
    openrc: versions,
    script: labScriptHash(OPENRC_LAYER_SCRIPT),
    service: createHash('sha256').update(JSON.stringify(service)).digest('hex'),
  });
  const finalDir = join(root, key);
  const hit = await readLabManifest<OpenrcManifest>(finalDir);
  if (hit) return toImage(finalDir, key, hit, true);

  opts.log?.(`building the lab OpenRC rescue image ${key}`);
  const tmp = await makeBuildTemp(root);
  try {
    const out = join(tmp, 'out');
    const artifacts = join(tmp, 'artifacts');
    await writeRescueArtifacts(artifacts);
    const started = Date.now();
    const build = await runBuildScript(OPENRC_LAYER_SCRIPT, ['build', out, debDir, artifacts], deps);
    if (build.code !== 0 || !build.values.SIZE) {
      throw new XepaError('ERR_INTERNAL', `building the OpenRC layer failed (exit ${build.code}): ${build.stderrTail.at(-1) ?? ''}`, {
        details: { stderr: build.stderrTail },
      });
    }
    // One initrd file: the base archive (4-byte padded by its builder), then the layer (later members win).
    const initrd = join(out, 'rescue-openrc.img');
    await fsp.copyFile(base.initrd, initrd);
    await fsp.appendFile(initrd, await fsp.readFile(join(out, 'openrc-layer.img')));
    await fsp.rm(join(out, 'openrc-layer.img'));
    await fsp.copyFile(base.kernel, join(out, 'vmlinuz'));
    const manifest: OpenrcManifest = {
      files: { kernel: 'vmlinuz', initrd: 'rescue-openrc.img' },
      base: base.key,
      kernelRelease: base.kernelRelease,
      openrcVersions: versions,
      builtAt: new Date().toISOString(),
      buildSeconds: (Date.now() - started) / 1000,
      sizeBytes: (await fsp.stat(initrd)).size,
    };
    const image = await publishImage(root, PREFIX, key, out, manifest);
    opts.log?.(`lab OpenRC rescue image built in ${manifest.buildSeconds.toFixed(1)} s`);
    return image;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
