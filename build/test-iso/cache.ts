// The test-ISO cache on disk: one directory per build key holding the ISO, the system image and a manifest.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hasErrno, isENOENT } from '../../agent/protocol/errors.js';

// What a finished build leaves beside its ISO (paths are file names inside the build's directory).
export interface TestIsoManifest {
  iso: string;
  systemImage: string;
  sha256: string;
  size: number;
  marker: string;
  kernelVersion: string;
  kernelPackage: string;
  kernelPackageVersion: string;
  busyboxVersion: string;
  flavour: string;
  scriptHash: string;
  builtAt: string;
  buildSeconds: number;
}

// The manifest's file name inside a build directory; its presence marks a complete build.
export const MANIFEST_FILE = 'manifest.json';
const TEMP_PREFIX = '.tmp-';
const STALE_TEMP_MS = 6 * 3600_000;

// The directory name of a build: every input that changes the output is in it, readable for humans.
export function cacheKey(parts: { kernelPackage: string; kernelPackageVersion: string; busyboxVersion: string; scriptHash: string }): string {
  const raw = `${parts.kernelPackage}_${parts.kernelPackageVersion}_busybox-${parts.busyboxVersion}_${parts.scriptHash.slice(0, 12)}`;
  return raw.replace(/[^A-Za-z0-9._+-]/g, '_');
}

// Reads a build directory's manifest; undefined when the build is absent or incomplete.
export async function readManifest(dir: string): Promise<TestIsoManifest | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(join(dir, MANIFEST_FILE), 'utf8')) as TestIsoManifest;
    const st = await fsp.stat(join(dir, m.iso));
    await fsp.stat(join(dir, m.systemImage));
    return st.size === m.size ? m : undefined;
  } catch (err) {
    if (isENOENT(err) || hasErrno(err, 'ENOTDIR') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

// The newest complete build made by this script for this kernel flavour (the fallback when apt cannot resolve).
export async function findNewestBuild(root: string, flavour: string, scriptHash: string): Promise<{ dir: string; manifest: TestIsoManifest } | undefined> {
  let best: { dir: string; manifest: TestIsoManifest } | undefined;
  for (const name of await listDir(root)) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const manifest = await readManifest(join(root, name));
    if (!manifest || manifest.flavour !== flavour || manifest.scriptHash !== scriptHash) continue;
    if (!best || manifest.builtAt > best.manifest.builtAt) best = { dir: join(root, name), manifest };
  }
  return best;
}

// Deletes all but the `keep` newest builds of this flavour (every script edit or kernel update makes a new one).
export async function pruneOldBuilds(root: string, flavour: string, keep = 2): Promise<void> {
  const builds: { dir: string; builtAt: string }[] = [];
  for (const name of await listDir(root)) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const manifest = await readManifest(join(root, name));
    if (manifest?.flavour === flavour) builds.push({ dir: join(root, name), builtAt: manifest.builtAt });
  }
  builds.sort((a, b) => b.builtAt.localeCompare(a.builtAt));
  for (const old of builds.slice(keep)) await fsp.rm(old.dir, { recursive: true, force: true });
}

// A fresh private directory inside `root` (same filesystem as the final directory, so rename is atomic).
export async function makeTempDir(root: string): Promise<string> {
  await fsp.mkdir(root, { recursive: true });
  return fsp.mkdtemp(join(root, TEMP_PREFIX));
}

// Moves a finished build into place; if a concurrent build got there first, keeps theirs and drops ours.
// `complete` tells a finished build from debris (the test ISO's manifest by default; the lab passes its own).
export async function publishBuild(
  tempOut: string,
  finalDir: string,
  complete: (dir: string) => Promise<unknown> = readManifest,
): Promise<'published' | 'lost-race'> {
  try {
    await fsp.rename(tempOut, finalDir);
    return 'published';
  } catch (err) {
    if (!hasErrno(err, 'ENOTEMPTY') && !hasErrno(err, 'EEXIST')) throw err;
    if (!(await complete(finalDir))) {
      // A directory without a valid manifest is debris (nothing publishes one): replace it.
      await fsp.rm(finalDir, { recursive: true, force: true });
      await fsp.rename(tempOut, finalDir);
      return 'published';
    }
    await fsp.rm(tempOut, { recursive: true, force: true });
    return 'lost-race';
  }
}

// Removes temp directories left by builds that died long ago (a live build lasts about a minute).
export async function removeStaleTemps(root: string, now: number = Date.now()): Promise<void> {
  for (const name of await listDir(root)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(root, name);
    try {
      if (now - (await fsp.stat(path)).mtimeMs > STALE_TEMP_MS) await fsp.rm(path, { recursive: true, force: true });
    } catch (err) {
      if (!isENOENT(err)) throw err;
    }
  }
}

// A kernel resolution remembered until apt's package lists change (apt-cache takes seconds without pkgcache.bin).
export interface ResolvedKernel {
  listsStamp: number;
  kernelPackage: string;
  kernelPackageVersion: string;
}

// The stamp of apt's package lists: apt-get update renames fresh lists into this directory, changing its mtime.
export async function aptListsStamp(listsDir = '/var/lib/apt/lists'): Promise<number | undefined> {
  try {
    return (await fsp.stat(listsDir)).mtimeMs;
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
}

// The remembered resolution for this kernel flavour, if apt's lists have not changed since.
export async function readResolvedKernel(root: string, flavour: string, stamp: number | undefined): Promise<ResolvedKernel | undefined> {
  if (stamp === undefined) return undefined;
  try {
    const r = JSON.parse(await fsp.readFile(join(root, `resolved-${flavour}.json`), 'utf8')) as ResolvedKernel;
    return r.listsStamp === stamp && r.kernelPackage && r.kernelPackageVersion ? r : undefined;
  } catch (err) {
    if (isENOENT(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

// Remembers a resolution (write to a temp file, then rename: concurrent readers never see half a file).
export async function writeResolvedKernel(root: string, flavour: string, r: ResolvedKernel): Promise<void> {
  const tmp = join(root, `${TEMP_PREFIX}resolved-${flavour}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await fsp.writeFile(tmp, JSON.stringify(r) + '\n');
  await fsp.rename(tmp, join(root, `resolved-${flavour}.json`));
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (isENOENT(err)) return [];
    throw err;
  }
}
