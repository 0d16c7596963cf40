// The updater: poll upstream, take the latest release in as a candidate (verified), validate it, and promote it
// to stable only when validation passes. Failures are recorded on the release, never promoted.
import { isXepaError, toWireError } from '../../../agent/protocol/index.js';
import { levelMeets, validationLevel, type OsModule } from '../os/schema.js';
import { addCandidate, addDerivedFile, addRejected, promote, recordValidation, resolveRelease, type Release } from '../store/index.js';
import { listUpstreamReleases, pickLatest, planRelease, type GivenFile } from '../upstream/index.js';
import { ingestRelease, wrapBootIso, type IngestDeps } from './ingest.js';
import type { UpdateResult } from './progress.js';
import { validateRelease, type ValidateDeps } from './validate.js';

// Everything the updater uses.
export type UpdaterDeps = IngestDeps & Omit<ValidateDeps, 'log'> & { serialLog?: (os: string, line: string) => void };

// What to redo for releases already known.
export interface UpdateOptions {
  retryRejected?: boolean; // try a rejected version again (upstream may have fixed it)
  revalidate?: boolean; // validate a candidate again even if it failed before
}

function say(d: UpdaterDeps, os: string, version: string | undefined, step: Parameters<NonNullable<UpdaterDeps['progress']>>[0]['step'], message: string): void {
  d.progress?.({ os, ...(version ? { version } : {}), step, message });
}

// Validates a stored candidate and promotes it when it passes; the verdict is written to the index either way.
export async function validateAndPromote(m: OsModule, r: Release, d: UpdaterDeps): Promise<UpdateResult> {
  const store = d.store;
  if (m.validation.kind === 'manual') {
    await store.updateIndex(m.name, (i) => recordValidation(i, r.version, { status: 'manual', at: store.clock().toISOString(), kind: 'manual', reason: 'validated by hand: xepa vendor promote' }, store.clock()));
    say(d, m.name, r.version, 'validate', 'validation is manual for this OS: stays candidate until `xepa vendor promote`');
    return { os: m.name, version: r.version, action: 'candidate', detail: 'awaiting manual validation (xepa vendor promote)' };
  }
  say(d, m.name, r.version, 'validate', `validating: ${m.validation.kind} (QEMU ${d.accel ?? 'tcg'})`);
  await store.updateIndex(m.name, (i) => recordValidation(i, r.version, { status: 'pending', at: store.clock().toISOString(), kind: m.validation.kind }, store.clock()));
  const out = await validateRelease(m, r, { ...d, log: d.serialLog ? (l) => d.serialLog!(m.name, l) : undefined });
  const level = out.ok ? validationLevel(out.kind) : undefined;
  const rec = { status: out.ok ? 'passed' : 'failed', at: store.clock().toISOString(), kind: out.kind, ...(level ? { level } : {}), seconds: out.seconds, reason: out.reason, log: out.log } as const;
  await store.updateIndex(m.name, (i) => recordValidation(i, r.version, rec, store.clock()));
  if (!out.ok) {
    say(d, m.name, r.version, 'validate', `validation failed: ${out.reason}; stays candidate`);
    return { os: m.name, version: r.version, action: 'candidate', detail: `validation failed: ${out.reason}`, code: 'ERR_VALIDATION_FAILED' };
  }
  return promoteIfPolicy(m, r.version, level, out.reason, d);
}

// Promotes a release that passed validation when its level meets the module's policy (promoteAt); else it stays
// candidate, saying which policy would accept it.
async function promoteIfPolicy(m: OsModule, version: string, level: 'install' | 'boot' | undefined, reason: string, d: UpdaterDeps): Promise<UpdateResult> {
  const store = d.store;
  if (!levelMeets(level, m.promoteAt)) {
    const detail = `validated at level ${level ?? 'none'} (${reason}); the policy promotes at ${m.promoteAt}: stays candidate ` +
      `(config modules.${m.name}.promoteAt "boot" accepts it, or xepa vendor promote)`;
    say(d, m.name, version, 'validate', detail);
    return { os: m.name, version, action: 'candidate', detail };
  }
  const idx = await store.updateIndex(m.name, (i) => promote(i, version, store.clock()));
  say(d, m.name, version, 'promote', `validation passed at level ${level} (${reason}); ${version} is now stable`);
  return { os: m.name, version, action: 'promoted', detail: `${level}: ${reason}`, ...(idx.stable ? { stable: idx.stable } : {}) };
}

// Stores a planned release as a candidate (or records its rejection) and carries it through validation.
async function takeIn(m: OsModule, version: string, plan: () => ReturnType<typeof planRelease>, d: UpdaterDeps): Promise<UpdateResult> {
  const store = d.store;
  let files;
  try {
    files = await ingestRelease(m, await plan(), d);
  } catch (err) {
    if (!isXepaError(err) || !['ERR_FETCH_DIGEST', 'ERR_FETCH_SIZE', 'ERR_FETCH_HTTP', 'ERR_NOT_FOUND'].includes(err.code)) throw err;
    await store.updateIndex(m.name, (i) => addRejected(i, version, err.code, err.message, store.clock()));
    say(d, m.name, version, 'reject', `rejected: ${err.message}`);
    return { os: m.name, version, action: 'rejected', detail: err.message, code: err.code };
  }
  let idx = await store.updateIndex(m.name, (i) => addCandidate({ ...i, releases: i.releases.filter((r) => r.version !== version) }, version, files, store.clock()));
  say(d, m.name, version, 'verify', `${version} stored as candidate (${files.length} files verified)`);
  // The wrapped ISO serves agent installs; iPXE does without it, so a build failure is reported, not fatal.
  const wrapped = await wrapBootIso(m, resolveRelease(idx, version)!, d).catch((err: Error) => {
    say(d, m.name, version, 'wrap', `no boot ISO: ${err.message}`);
    return undefined;
  });
  if (wrapped) idx = await store.updateIndex(m.name, (i) => addDerivedFile(i, version, wrapped, store.clock()));
  return validateAndPromote(m, resolveRelease(idx, version)!, d);
}

// Fills in which release is stable after the work (the summary shows it for every outcome).
async function withStable(d: UpdaterDeps, r: UpdateResult): Promise<UpdateResult> {
  if (r.stable !== undefined) return r;
  const stable = await d.store.readIndex(r.os).then((i) => i.stable, () => undefined);
  return stable === undefined ? r : { ...r, stable };
}

// One OS: find upstream's latest release and take it in, unless it is already known.
export async function updateOs(m: OsModule, d: UpdaterDeps, o: UpdateOptions = {}): Promise<UpdateResult> {
  return withStable(d, await updateOnce(m, d, o));
}

async function updateOnce(m: OsModule, d: UpdaterDeps, o: UpdateOptions): Promise<UpdateResult> {
  try {
    if (m.upstream.source.kind === 'manual') {
      return { os: m.name, action: 'skipped', detail: 'no upstream to poll: add releases with `xepa vendor add`' };
    }
    say(d, m.name, undefined, 'poll', `asking upstream (${m.upstream.source.kind})`);
    const releases = await listUpstreamReleases(m, { fetch: d.fetch, signal: d.signal });
    const version = pickLatest(releases.map((r) => r.version), m.upstream.latest);
    if (!version) return { os: m.name, action: 'failed', detail: 'upstream lists no release that fits', code: 'ERR_NOT_FOUND' };
    const rel = releases.find((r) => r.version === version)!;
    const idx = await d.store.readIndex(m.name);
    const known = idx.releases.find((r) => r.version === version);
    if (known) {
      const pendingValidation = known.status === 'candidate' && (known.validation === undefined || known.validation.status === 'pending');
      if (known.status === 'rejected' && !o.retryRejected) return { os: m.name, version, action: 'rejected', detail: `rejected earlier: ${known.rejection?.reason ?? '?'} (--retry-rejected to try again)`, code: known.rejection?.code ?? 'ERR_FETCH_DIGEST' };
      if (known.status === 'candidate' && (pendingValidation || o.revalidate)) return await validateAndPromote(m, known, d);
      // passed before, below the policy of then: the policy may accept it now (promoteAt changed)
      if (known.status === 'candidate' && known.validation?.status === 'passed' && levelMeets(known.validation.level, m.promoteAt)) {
        return await promoteIfPolicy(m, version, known.validation.level, known.validation.reason ?? 'passed earlier', d);
      }
      if (known.status === 'candidate') return { os: m.name, version, action: 'candidate', detail: `validation ${known.validation?.status}: ${known.validation?.reason ?? ''} (--revalidate to run it again)` };
      if (known.status === 'withdrawn') return { os: m.name, version, action: 'skipped', detail: 'withdrawn by a rollback: not promoted again' };
      if (known.status === 'promoted') return { os: m.name, version, action: 'up-to-date', detail: idx.stable === version ? 'already stable' : 'promoted before', ...(idx.stable ? { stable: idx.stable } : {}) };
    }
    say(d, m.name, version, 'poll', `new release ${version}${idx.stable ? ` (stable is ${idx.stable})` : ''}`);
    return await takeIn(m, version, () => planRelease(m, rel, { fetch: d.fetch, signal: d.signal }), d);
  } catch (err) {
    const w = toWireError(err);
    return { os: m.name, action: 'failed', detail: w.message, code: w.code };
  }
}

// Adds a release the operator names (modules with a manual source: the generic ISO), then validates it.
export async function addGivenRelease(m: OsModule, version: string, given: Record<string, GivenFile>, d: UpdaterDeps): Promise<UpdateResult> {
  return withStable(d, await addOnce(m, version, given, d));
}

async function addOnce(m: OsModule, version: string, given: Record<string, GivenFile>, d: UpdaterDeps): Promise<UpdateResult> {
  try {
    const idx = await d.store.readIndex(m.name);
    const known = idx.releases.find((r) => r.version === version);
    if (known && known.status !== 'rejected') return { os: m.name, version, action: 'skipped', detail: `${version} is already in the store (${known.status})`, code: 'ERR_BAD_REQUEST' };
    return await takeIn(m, version, () => planRelease(m, { version }, { fetch: d.fetch, signal: d.signal }, given), d);
  } catch (err) {
    const w = toWireError(err);
    return { os: m.name, version, action: 'failed', detail: w.message, code: w.code };
  }
}
