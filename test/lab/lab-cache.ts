// The lab's build cache on disk: one directory per build key holding the outputs and a manifest; a build is
// made in a temp directory beside it and published by an atomic rename, so readers never see half a build
// (the temp and publish rules are the test ISO cache's: build/test-iso/cache.ts).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { hasErrno, isENOENT } from '../../agent/protocol/errors.js';
import { makeTempDir, publishBuild, removeStaleTemps } from '../../build/test-iso/cache.js';

// The manifest's file name; its presence (and the files it names) marks a complete build.
export const LAB_MANIFEST = 'manifest.json';
const TEMP_PREFIX = '.tmp-'; // as build/test-iso/cache.ts's temp directories

// The lab cache root: <XEPA_CACHE or ~/.cache/xepa>/lab.
export function labCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa'), 'lab');
}

// The directory name of a build: a readable prefix and a hash of every input that changes the output.
export function buildKey(prefix: string, inputs: Record<string, string>): string {
  const canonical = Object.keys(inputs).sort().map((k) => `${k}=${inputs[k]}`).join('\n');
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  return `${prefix}_${hash}`.replace(/[^A-Za-z0-9._+-]/g, '_');
}

// Reads a build's manifest; undefined when the build is absent or incomplete (a named file is missing).
export async function readLabManifest<M extends { files: Record<string, string> }>(dir: string): Promise<M | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(join(dir, LAB_MANIFEST), 'utf8')) as M;
    for (const f of Object.values(m.files)) await fsp.stat(join(dir, f));
    return m;
  } catch (err) {
    if (isENOENT(err) || hasErrno(err, 'ENOTDIR') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

// A fresh private directory inside `root` (same filesystem as the final directory, so rename is atomic);
// temp directories of builds that died hours ago are removed first. The test ISO cache's own rules, shared.
export async function makeBuildTemp(root: string, now: number = Date.now()): Promise<string> {
  await removeStaleTemps(root, now);
  return makeTempDir(root);
}

// Moves a finished build (with its manifest) into place; when a concurrent build won, keeps theirs.
export const publishLabBuild = (tempOut: string, finalDir: string): Promise<'published' | 'lost-race'> =>
  publishBuild(tempOut, finalDir, readLabManifest);

// Deletes all but the `keep` newest complete builds whose names start with `prefix`.
export async function pruneLabBuilds(root: string, prefix: string, keep = 2): Promise<void> {
  const builds: { dir: string; mtime: number }[] = [];
  for (const name of await fsp.readdir(root)) {
    if (name.startsWith(TEMP_PREFIX) || !name.startsWith(`${prefix}_`)) continue;
    const dir = join(root, name);
    if (!(await readLabManifest(dir))) continue;
    builds.push({ dir, mtime: (await fsp.stat(join(dir, LAB_MANIFEST))).mtimeMs });
  }
  builds.sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(keep)) await fsp.rm(old.dir, { recursive: true, force: true });
}
