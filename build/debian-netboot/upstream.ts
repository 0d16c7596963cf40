// What Debian's archive publishes for the installer, taken once by apt's own machinery and cached as test media:
// the suite's signed InRelease and the installer's SHA256SUMS it lists. `apt-get update` runs with a private lists
// directory and one extra index target (the SHA256SUMS), so apt verifies the InRelease signature and the SHA256SUMS
// digest itself and the host's own apt state is never touched. Tests read the cached copies (no network); only an
// empty cache fetches, through apt, from the sources.list entry below.
import * as childProcess from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { XepaError } from '../../agent/protocol/errors.js';

// The snapshot on disk.
export interface DebianUpstream {
  dir: string;
  inRelease: string; // the suite's InRelease as apt received it
  sha256sums: string; // main/installer-amd64/current/images/SHA256SUMS, decompressed
  fetchedAt: string;
  mirror: string;
  suite: string;
}

// Options (defaults: $XEPA_CACHE or ~/.cache/xepa, Debian's CDN, bookworm).
export interface DebianUpstreamOptions {
  cacheDir?: string;
  mirror?: string;
  suite?: string;
  log?: (line: string) => void;
  spawn?: typeof childProcess.spawn;
}

const TARGET = 'XepaInstallerSums';

// The apt options of the private update: own lists/cache/sources, no by-hash (the SHA256SUMS has no by-hash copy).
export function aptUpdateArgs(apt: string): string[] {
  const t = `Acquire::IndexTargets::deb::${TARGET}`;
  return [
    '-q', 'update',
    '-o', `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o', `Dir::Cache=${join(apt, 'cache')}`,
    '-o', `Dir::Etc::SourceList=${join(apt, 'sources.list')}`,
    '-o', `Dir::Etc::SourceParts=${join(apt, 'sources.list.d')}`,
    '-o', `${t}::MetaKey=$(COMPONENT)/installer-$(NATIVE_ARCHITECTURE)/current/images/SHA256SUMS`,
    '-o', `${t}::ShortDescription=installer SHA256SUMS`,
    '-o', `${t}::Description=$(RELEASE)/$(COMPONENT) installer-$(NATIVE_ARCHITECTURE) SHA256SUMS`,
    '-o', `${t}::DefaultEnabled=false`,
    '-o', 'Acquire::By-Hash=no',
    '-o', 'Acquire::Languages=none',
  ];
}

function run(spawn: typeof childProcess.spawn, cmd: string, args: string[], stdout?: string): Promise<{ code: number; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', async (code) => {
      if (stdout !== undefined) await fsp.writeFile(stdout, Buffer.concat(out)).catch(reject);
      resolve({ code: code ?? -1, err });
    });
  });
}

async function readSnapshot(dir: string): Promise<DebianUpstream | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8')) as Omit<DebianUpstream, 'dir' | 'inRelease' | 'sha256sums'>;
    const snap = { ...m, dir, inRelease: join(dir, 'InRelease'), sha256sums: join(dir, 'SHA256SUMS') };
    await fsp.access(snap.inRelease);
    await fsp.access(snap.sha256sums);
    return snap;
  } catch {
    return undefined;
  }
}

// The cached snapshot, fetched through apt first when the cache has none.
export async function ensureDebianUpstream(o: DebianUpstreamOptions = {}): Promise<DebianUpstream> {
  const root = join(o.cacheDir ?? process.env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa'), 'debian-netboot');
  const mirror = o.mirror ?? 'http://deb.debian.org/debian';
  const suite = o.suite ?? 'bookworm';
  const dir = join(root, `upstream-${suite}`);
  const have = await readSnapshot(dir);
  if (have) return have;
  const spawn = o.spawn ?? childProcess.spawn;
  await fsp.mkdir(root, { recursive: true });
  const tmp = await fsp.mkdtemp(join(root, '.tmp-upstream-'));
  try {
    const apt = join(tmp, 'apt');
    for (const d of ['lists/partial', 'cache/archives/partial', 'sources.list.d']) await fsp.mkdir(join(apt, d), { recursive: true });
    await fsp.writeFile(join(apt, 'sources.list'), `deb [target=${TARGET}] ${mirror} ${suite} main\n`);
    o.log?.(`apt-get update (private lists, targets InRelease + installer SHA256SUMS) from ${mirror} ${suite}`);
    const up = await run(spawn, 'apt-get', aptUpdateArgs(apt));
    const lists = await fsp.readdir(join(apt, 'lists'));
    const inRel = lists.find((n) => n.endsWith(`_dists_${suite}_InRelease`));
    const sums = lists.find((n) => n.includes('_installer-amd64_current_images_SHA256SUMS'));
    if (up.code !== 0 || !inRel || !sums) {
      throw new XepaError('ERR_CONFIG', `apt-get update could not fetch ${suite}'s InRelease and installer SHA256SUMS from ${mirror} (exit ${up.code}): ${up.err.trim().split('\n').slice(-2).join(' | ')}`);
    }
    const out = join(tmp, 'snap');
    await fsp.mkdir(out);
    await fsp.copyFile(join(apt, 'lists', inRel), join(out, 'InRelease'));
    // apt keeps lists compressed; its helper decompresses whatever format it chose
    const cat = await run(spawn, '/usr/lib/apt/apt-helper', ['cat-file', join(apt, 'lists', sums)], join(out, 'SHA256SUMS'));
    if (cat.code !== 0) throw new XepaError('ERR_CONFIG', `apt-helper cat-file ${sums} failed: ${cat.err.trim()}`);
    await fsp.writeFile(join(out, 'manifest.json'), JSON.stringify({ fetchedAt: new Date().toISOString(), mirror, suite }, null, 2) + '\n');
    await fsp.rename(out, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err; // another process published first: use its copy
    });
    const snap = await readSnapshot(dir);
    if (!snap) throw new XepaError('ERR_INTERNAL', `the Debian upstream snapshot in ${dir} is incomplete`);
    return snap;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
