// The lab's rescue system (kernel + initramfs root with busybox, kmod, Node and QEMU), built by build-rescue.sh
// from Debian packages and cached under <cache>/lab keyed on the package versions and the script's hash.
import type * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XepaError } from '../../agent/protocol/errors.js';
import { aptListsStamp } from '../../build/test-iso/cache.js';
import { fetchDebianPackage } from '../../build/test-iso/index.js';
import { runBuildScript } from '../../build/test-iso/run-script.js';
import { buildKey, labCacheRoot, makeBuildTemp, publishLabBuild, pruneLabBuilds, readLabManifest } from './lab-cache.js';

// The builder script and the /init pieces it sources (shared with the OpenRC layer); their hash is part of the
// cache key (editing either rebuilds).
export const RESCUE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build-rescue.sh');
export const LAB_INIT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'lab-init.sh');

// The SHA-256 of a builder script together with the lab-init.sh it sources.
export const labScriptHash = (script: string): string =>
  createHash('sha256').update(readFileSync(script)).update(readFileSync(LAB_INIT_SCRIPT)).digest('hex');
const PREFIX = 'rescue';

// A ready rescue system: boot `kernel` with `initrd` (append the agent overlay to the initrd, see boot-overlay.ts).
export interface RescueImage {
  kernel: string;
  initrd: string;
  kernelRelease: string;
  key: string;
  // True when it came from the cache; buildSeconds is then the original build's time.
  cached: boolean;
  buildSeconds: number;
  sizeBytes: number;
}

interface RescueManifest extends ImageManifest {
  kernelPackage: string;
  kernelPackageVersion: string;
  versions: string;
  scriptHash: string;
  builtAt: string;
}

// Options of ensureRescueImage; every one has a working default.
export interface EnsureRescueOptions {
  cacheDir?: string; // default <XEPA_CACHE or ~/.cache/xepa>/lab
  debDir?: string; // where kernel .debs are kept (shared with the test ISO): default <cache>/debs
  log?: (line: string) => void;
  spawn?: typeof childProcess.spawn;
}

// Returns the cached rescue image for the current package versions, building it first (~5-60 s) when missing.
export async function ensureRescueImage(opts: EnsureRescueOptions = {}): Promise<RescueImage> {
  const root = opts.cacheDir ?? labCacheRoot();
  const debDir = opts.debDir ?? join(dirname(root), 'debs');
  const deps = { spawn: opts.spawn, log: opts.log };
  const scriptHash = labScriptHash(RESCUE_SCRIPT);

  const check = await runBuildScript(RESCUE_SCRIPT, ['check'], deps);
  if (check.code !== 0 || !check.values.VERSIONS) {
    const missing = (check.values.MISSING_PACKAGES ?? '').trim();
    throw new XepaError('ERR_CONFIG', `cannot build the lab's rescue image: missing ${missing || check.stderrTail.at(-1) || '(unknown)'}`, {
      details: { missing: missing.split(/\s+/).filter(Boolean) },
    });
  }
  const kernel = await resolveKernel(root, deps);
  const inputs = { kernel: `${kernel.kpkg}=${kernel.kversion}`, versions: check.values.VERSIONS, script: scriptHash };
  const key = buildKey(PREFIX, inputs);
  const finalDir = join(root, key);
  const hit = await readLabManifest<RescueManifest>(finalDir);
  if (hit) return toImage(finalDir, key, hit, true);

  opts.log?.(`building the lab rescue image ${key}`);
  const tmp = await makeBuildTemp(root);
  try {
    const out = join(tmp, 'out');
    const started = Date.now();
    const deb = await fetchDebianPackage(debDir, kernel.kpkg, kernel.kversion, deps);
    const build = await runBuildScript(RESCUE_SCRIPT, ['build', out, deb, kernel.kpkg], deps);
    if (build.code !== 0 || !build.values.KVER) {
      throw new XepaError('ERR_INTERNAL', `building the lab rescue image failed (exit ${build.code}): ${build.stderrTail.at(-1) ?? ''}`, {
        details: { stderr: build.stderrTail },
      });
    }
    const manifest: RescueManifest = {
      files: { kernel: 'vmlinuz', initrd: 'rescue.img' },
      kernelRelease: build.values.KVER,
      kernelPackage: kernel.kpkg,
      kernelPackageVersion: kernel.kversion,
      versions: check.values.VERSIONS,
      scriptHash,
      builtAt: new Date().toISOString(),
      buildSeconds: (Date.now() - started) / 1000,
      sizeBytes: Number(build.values.SIZE),
    };
    const image = await publishImage(root, PREFIX, key, out, manifest);
    opts.log?.(`lab rescue image built in ${manifest.buildSeconds.toFixed(1)} s (${(manifest.sizeBytes / 2 ** 20).toFixed(1)} MiB)`);
    return image;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// The cloud kernel package apt pins now; remembered until apt's lists change (apt-cache is slow without a cache).
async function resolveKernel(
  root: string,
  deps: { spawn?: typeof childProcess.spawn | undefined; log?: ((line: string) => void) | undefined },
): Promise<{ kpkg: string; kversion: string }> {
  const file = join(root, 'resolved-kernel.json');
  const stamp = await aptListsStamp();
  try {
    const r = JSON.parse(await fsp.readFile(file, 'utf8')) as { stamp: number; kpkg: string; kversion: string };
    if (stamp !== undefined && r.stamp === stamp && r.kpkg && r.kversion) return r;
  } catch {
    // not resolved yet, or unreadable: resolve again
  }
  const resolved = await runBuildScript(RESCUE_SCRIPT, ['resolve'], deps);
  const { KPKG: kpkg, KVERSION: kversion } = resolved.values;
  if (resolved.code !== 0 || !kpkg || !kversion) {
    throw new XepaError('ERR_CONFIG', `cannot resolve the Debian cloud kernel: ${resolved.stderrTail.at(-1) ?? 'apt-cache failed'}`);
  }
  await fsp.mkdir(root, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify({ stamp: stamp ?? 0, kpkg, kversion }) + '\n');
  await fsp.rename(tmp, file);
  return { kpkg, kversion };
}

// What every lab image's manifest holds (the rescue image and its OpenRC variant add their inputs).
export interface ImageManifest {
  files: { kernel: string; initrd: string };
  kernelRelease: string;
  buildSeconds: number;
  sizeBytes: number;
}

// Writes the manifest of the build in `out` and publishes it as `key` under `root` (a concurrent build that won is
// kept), prunes older builds of the kind, and returns the image as published.
export async function publishImage(root: string, prefix: string, key: string, out: string, manifest: ImageManifest): Promise<RescueImage> {
  const finalDir = join(root, key);
  await fsp.writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const outcome = await publishLabBuild(out, finalDir);
  await pruneLabBuilds(root, prefix);
  const published = await readLabManifest<ImageManifest>(finalDir);
  if (!published) throw new XepaError('ERR_INTERNAL', `the lab image ${key} in ${finalDir} vanished after publishing`);
  return toImage(finalDir, key, published, outcome === 'lost-race');
}

// The image a published (or cached) build is.
export function toImage(dir: string, key: string, m: ImageManifest, cached: boolean): RescueImage {
  return {
    kernel: join(dir, m.files.kernel),
    initrd: join(dir, m.files.initrd),
    kernelRelease: m.kernelRelease,
    key,
    cached,
    buildSeconds: m.buildSeconds,
    sizeBytes: m.sizeBytes,
  };
}
