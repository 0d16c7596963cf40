// XEPA's test installer ISO, built from Debian packages only and cached: see ensureTestIso.
import * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { XepaError } from '../../agent/protocol/errors.js';
import {
  aptListsStamp,
  cacheKey,
  findNewestBuild,
  makeTempDir,
  MANIFEST_FILE,
  publishBuild,
  pruneOldBuilds,
  readManifest,
  readResolvedKernel,
  removeStaleTemps,
  writeResolvedKernel,
  type TestIsoManifest,
} from './cache.js';
import { runBuildScript } from './run-script.js';
import { BUILD_TEST_ISO_SH, INSTALLED_MARKER } from './script.js';

// The serial lines the installer and the installed system print (tests and the demo wait for them).
export { INSTALLED_MARKER, INSTALLER_DONE, INSTALLER_FAILED } from './script.js';

// The Debian packages the builder needs on the host (pass them to ensureDebianPackages from build/host-deps.ts).
export const TEST_ISO_PACKAGES: readonly string[] = ['busybox-static', 'grub-pc-bin', 'grub-common', 'xorriso', 'mtools', 'cpio', 'zstd', 'kmod'];

// Which Debian kernel the ISO boots: 'cloud' (small, LZ4, fast under TCG; no AHCI driver) or 'generic' (has AHCI).
export type KernelFlavour = 'cloud' | 'generic';

// Options of ensureTestIso; every one has a working default.
export interface EnsureTestIsoOptions {
  // Cache root; default $XEPA_CACHE, else ~/.cache/xepa. Builds live in <cacheDir>/test-iso, kernel .debs in <cacheDir>/debs.
  cacheDir?: string;
  log?: (line: string) => void;
  spawn?: typeof childProcess.spawn;
  // Default 'cloud'.
  kernel?: KernelFlavour;
  // Boot firmware of the ISO and the system image: 'bios' (default, BIOS-only GRUB) or 'both' (BIOS and UEFI GRUB).
  firmware?: 'bios' | 'both';
  // The installer first prints what it sees as XEPA-PROBE lines (SMBIOS, firmware, TPM, NICs, PCI, media).
  probe?: boolean;
}

// A ready test ISO: the installer ISO, the disk image it writes, and what the installed system prints when it boots.
export interface TestIso {
  iso: string;
  sha256: string;
  size: number;
  marker: string;
  kernelVersion: string;
  // The raw BIOS-bootable disk image the installer writes to the target disk (byte-for-byte).
  systemImage: string;
  // The kernel both images boot (the agent's KVM probe boots it too).
  kernel: string;
  // True when the ISO came from the cache without building.
  cached: boolean;
}

// The hash of the builder script, part of the cache key: editing the script rebuilds.
export const TEST_ISO_SCRIPT_HASH = createHash('sha256').update(BUILD_TEST_ISO_SH).digest('hex');

// Returns the cached test ISO for the current Debian kernel and busybox, building it first (~5-60 s) when missing.
export async function ensureTestIso(opts: EnsureTestIsoOptions = {}): Promise<TestIso> {
  const cacheDir = opts.cacheDir ?? process.env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa');
  const flavour: KernelFlavour = opts.kernel ?? 'cloud';
  const firmware = opts.firmware ?? 'bios';
  // A variant is its own build (own key, own manifest flavour); the default keeps its key and flavour name.
  const variant = `${firmware === 'both' ? '+uefi' : ''}${opts.probe ? '+probe' : ''}`;
  const buildFlavour = `${flavour}${variant}`;
  const root = join(cacheDir, 'test-iso');
  const log = opts.log ?? (() => {});
  const deps = { spawn: opts.spawn, log };
  await removeStaleTemps(root);
  const tmp = await makeTempDir(root);
  try {
    const script = join(tmp, 'build-test-iso.sh');
    await fsp.writeFile(script, BUILD_TEST_ISO_SH, { mode: 0o755 });

    const check = await runBuildScript(script, ['check'], deps);
    if (check.code !== 0) {
      const missing = (check.values.MISSING_PACKAGES ?? '').trim();
      throw new XepaError('ERR_CONFIG', `cannot build the test ISO: missing Debian packages: ${missing || '(unknown)'}`, {
        details: { missing: missing.split(/\s+/).filter(Boolean) },
      });
    }

    const bbver = check.values.BUSYBOX_VERSION;
    const stamp = await aptListsStamp();
    let kernel = await readResolvedKernel(root, flavour, stamp);
    if (!kernel) {
      const resolved = await runBuildScript(script, ['resolve', flavour], deps);
      const { KPKG, KVERSION } = resolved.values;
      if (resolved.code === 0 && KPKG && KVERSION) {
        // Stamp taken after resolving: the script may have run apt-get update.
        kernel = { listsStamp: (await aptListsStamp()) ?? 0, kernelPackage: KPKG, kernelPackageVersion: KVERSION };
        await writeResolvedKernel(root, flavour, kernel);
      } else {
        const fallback = await findNewestBuild(root, buildFlavour, TEST_ISO_SCRIPT_HASH);
        if (fallback) {
          log(`apt cannot resolve the ${flavour} kernel; using the cached build ${fallback.dir}`);
          return toResult(fallback.dir, fallback.manifest, true);
        }
        throw new XepaError('ERR_CONFIG', `cannot resolve the Debian ${flavour} kernel package: ${resolved.stderrTail.at(-1) ?? 'apt-cache failed'}`, {
          details: { stderr: resolved.stderrTail },
        });
      }
    }
    if (!bbver) throw new XepaError('ERR_CONFIG', 'cannot read the installed busybox-static version');
    const { kernelPackage: kpkg, kernelPackageVersion: kversion } = kernel;

    const key = cacheKey({ kernelPackage: kpkg, kernelPackageVersion: kversion, busyboxVersion: bbver, scriptHash: TEST_ISO_SCRIPT_HASH }) + variant.replaceAll('+', '_');
    const finalDir = join(root, key);
    const hit = await readManifest(finalDir);
    if (hit) return toResult(finalDir, hit, true);

    log(`building the test ISO ${key}`);
    const started = Date.now();
    const out = join(tmp, 'out');
    const variantArgs = variant ? [firmware, opts.probe ? '1' : '0'] : [];
    const build = await runBuildScript(script, ['build', out, join(cacheDir, 'debs'), kpkg, kversion, ...variantArgs], deps);
    if (build.code !== 0 || !build.values.KVER) {
      throw new XepaError('ERR_INTERNAL', `building the test ISO failed (exit ${build.code}): ${build.stderrTail.at(-1) ?? ''}`, {
        details: { stderr: build.stderrTail },
      });
    }
    const manifest: TestIsoManifest = {
      iso: 'xepa-test-installer.iso',
      systemImage: 'system.img',
      sha256: await sha256File(join(out, 'xepa-test-installer.iso')),
      size: (await fsp.stat(join(out, 'xepa-test-installer.iso'))).size,
      marker: INSTALLED_MARKER,
      kernelVersion: build.values.KVER,
      kernelPackage: kpkg,
      kernelPackageVersion: kversion,
      busyboxVersion: bbver,
      flavour: buildFlavour,
      scriptHash: TEST_ISO_SCRIPT_HASH,
      builtAt: new Date().toISOString(),
      buildSeconds: (Date.now() - started) / 1000,
    };
    await fsp.writeFile(join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    const outcome = await publishBuild(out, finalDir);
    await pruneOldBuilds(root, buildFlavour);
    log(`test ISO ${outcome === 'published' ? 'built' : 'built concurrently elsewhere; using that one'} in ${manifest.buildSeconds.toFixed(1)} s`);
    const published = await readManifest(finalDir);
    if (!published) throw new XepaError('ERR_INTERNAL', `the test ISO build in ${finalDir} vanished after publishing`);
    return toResult(finalDir, published, outcome === 'lost-race');
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// DEBDIR's copy of the Debian package PKG=VERSION, downloaded first when missing, by the builder's own download
// step (the lab's rescue image takes its kernel .deb this way, from the same <cache>/debs).
export async function fetchDebianPackage(
  debDir: string,
  pkg: string,
  version: string,
  deps: { spawn?: typeof childProcess.spawn | undefined; log?: ((line: string) => void) | undefined } = {},
): Promise<string> {
  const tmp = await fsp.mkdtemp(join(tmpdir(), 'xepa-fetch-deb-'));
  try {
    const script = join(tmp, 'build-test-iso.sh');
    await fsp.writeFile(script, BUILD_TEST_ISO_SH, { mode: 0o755 });
    const run = await runBuildScript(script, ['fetch-deb', debDir, pkg, version], { ...(deps.spawn ? { spawn: deps.spawn } : {}), ...(deps.log ? { log: deps.log } : {}) });
    if (run.code !== 0 || !run.values.DEB) {
      throw new XepaError('ERR_CONFIG', `cannot fetch the Debian package ${pkg}=${version}: ${run.stderrTail.at(-1) ?? 'apt-get download failed'}`, {
        details: { stderr: run.stderrTail },
      });
    }
    return run.values.DEB;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

function toResult(dir: string, m: TestIsoManifest, cached: boolean): TestIso {
  return {
    iso: join(dir, m.iso),
    sha256: m.sha256,
    size: m.size,
    marker: m.marker,
    kernelVersion: m.kernelVersion,
    systemImage: join(dir, m.systemImage),
    kernel: join(dir, 'vmlinuz'),
    cached,
  };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
