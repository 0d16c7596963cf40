// The release index of one OS: its releases (files by digest, validation, status) and its channels.
// Pure functions over the index value; the Store reads and writes it atomically.
import { z } from 'zod';
import { XepaError } from '../../../agent/protocol/index.js';
import { type Channel } from '../os/names.js';

const hex = z.string().regex(/^[0-9a-f]+$/);

// One file of a release as stored.
export const StoredFile = z.object({
  name: z.string(),
  role: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  origin: z.string(), // the upstream URL, `archive:<file>!<member>`, or `derived:<how>`
  upstreamDigest: z.object({ algorithm: z.enum(['sha256', 'sha512']), hex }).optional(),
});
export type StoredFile = z.infer<typeof StoredFile>;

// The outcome of a validation run.
export const ValidationRecord = z.object({
  status: z.enum(['pending', 'passed', 'failed', 'manual']),
  at: z.string(),
  kind: z.string(),
  // what a passed run proved: `install` (installed, then the installed disk booted) or `boot` (the installer booted)
  level: z.enum(['install', 'boot']).optional(),
  seconds: z.number().optional(),
  reason: z.string().optional(),
  log: z.array(z.string()).optional(), // the last serial lines
});
export type ValidationRecord = z.infer<typeof ValidationRecord>;

// One release: candidate (files stored), promoted (was stable), withdrawn (rolled back from), rejected (never stored).
export const Release = z.object({
  version: z.string(),
  status: z.enum(['candidate', 'promoted', 'withdrawn', 'rejected']),
  addedAt: z.string(),
  promotedAt: z.string().optional(),
  files: z.array(StoredFile),
  validation: ValidationRecord.optional(),
  rejection: z.object({ code: z.string(), reason: z.string() }).optional(),
});
export type Release = z.infer<typeof Release>;

// The index file of one OS.
export const ReleaseIndex = z.object({
  os: z.string(),
  updatedAt: z.string(),
  releases: z.array(Release), // newest first
  stable: z.string().optional(),
  history: z.array(z.string()), // earlier stables, newest first: history[0] is the rollback target (`previous`)
});
export type ReleaseIndex = z.infer<typeof ReleaseIndex>;

// How many earlier stables are remembered for rollback.
export const HISTORY_DEPTH = 5;

// An empty index for `os`.
export function emptyIndex(os: string, now: Date): ReleaseIndex {
  return { os, updatedAt: now.toISOString(), releases: [], history: [] };
}

// The release named by a version or a channel (candidate = the newest candidate release).
export function resolveRelease(idx: ReleaseIndex, ref: Channel | string): Release | undefined {
  const byVersion = (v: string | undefined): Release | undefined => (v === undefined ? undefined : idx.releases.find((r) => r.version === v));
  if (ref === 'stable') return byVersion(idx.stable);
  if (ref === 'previous') return byVersion(idx.history[0]);
  if (ref === 'candidate') return idx.releases.find((r) => r.status === 'candidate');
  const r = byVersion(ref);
  return r?.status === 'rejected' ? undefined : r;
}

// The channels that point at each version.
export function channelsOf(idx: ReleaseIndex): Record<string, Channel[]> {
  const out: Record<string, Channel[]> = {};
  const add = (v: string | undefined, c: Channel): void => {
    if (v !== undefined) (out[v] ??= []).push(c);
  };
  add(idx.stable, 'stable');
  add(idx.history[0], 'previous');
  add(idx.releases.find((r) => r.status === 'candidate')?.version, 'candidate');
  return out;
}

function withRelease(idx: ReleaseIndex, r: Release, now: Date): ReleaseIndex {
  return { ...idx, updatedAt: now.toISOString(), releases: [r, ...idx.releases.filter((x) => x.version !== r.version)] };
}

function mustFind(idx: ReleaseIndex, version: string): Release {
  const r = idx.releases.find((x) => x.version === version);
  if (!r) throw new XepaError('ERR_NOT_FOUND', `${idx.os} has no release ${version}`);
  return r;
}

// Records a release whose download or verification failed: nothing of it is served.
export function addRejected(idx: ReleaseIndex, version: string, code: string, reason: string, now: Date): ReleaseIndex {
  return withRelease(idx, { version, status: 'rejected', addedAt: now.toISOString(), files: [], rejection: { code, reason } }, now);
}

// Adds a verified, stored release as a candidate (validation pending).
export function addCandidate(idx: ReleaseIndex, version: string, files: StoredFile[], now: Date): ReleaseIndex {
  if (idx.releases.some((r) => r.version === version && r.status !== 'rejected')) {
    throw new XepaError('ERR_BAD_REQUEST', `${idx.os} ${version} is already in the store`);
  }
  return withRelease(idx, { version, status: 'candidate', addedAt: now.toISOString(), files }, now);
}

// Adds a derived file (a wrapped boot ISO) to a stored release.
export function addDerivedFile(idx: ReleaseIndex, version: string, file: StoredFile, now: Date): ReleaseIndex {
  const r = mustFind(idx, version);
  return { ...idx, updatedAt: now.toISOString(), releases: idx.releases.map((x) => (x === r ? { ...r, files: [...r.files.filter((f) => f.name !== file.name), file] } : x)) };
}

// Records a validation result on a release.
export function recordValidation(idx: ReleaseIndex, version: string, v: ValidationRecord, now: Date): ReleaseIndex {
  const r = mustFind(idx, version);
  return { ...idx, updatedAt: now.toISOString(), releases: idx.releases.map((x) => (x === r ? { ...r, validation: v } : x)) };
}

// Makes `version` stable; the stable it replaces becomes `previous` (the rollback target).
export function promote(idx: ReleaseIndex, version: string, now: Date): ReleaseIndex {
  const r = mustFind(idx, version);
  if (r.status === 'rejected') throw new XepaError('ERR_BAD_REQUEST', `${idx.os} ${version} was rejected and has no files`);
  if (idx.stable === version) return idx;
  const history = idx.stable === undefined ? idx.history : [idx.stable, ...idx.history.filter((v) => v !== idx.stable && v !== version)];
  return {
    ...idx,
    updatedAt: now.toISOString(),
    stable: version,
    history: history.filter((v) => v !== version).slice(0, HISTORY_DEPTH),
    releases: idx.releases.map((x) => (x === r ? { ...r, status: 'promoted', promotedAt: now.toISOString() } : x)),
  };
}

// Puts the previous stable back; the release rolled back from is withdrawn (the updater will not promote it again).
export function rollback(idx: ReleaseIndex, now: Date): { index: ReleaseIndex; from: string; to: string } {
  const to = idx.history[0];
  if (idx.stable === undefined || to === undefined) {
    throw new XepaError('ERR_NOT_FOUND', `${idx.os} has no previous stable release to roll back to`);
  }
  const from = idx.stable;
  return {
    from,
    to,
    index: {
      ...idx,
      updatedAt: now.toISOString(),
      stable: to,
      history: idx.history.slice(1),
      releases: idx.releases.map((x) => (x.version === from ? { ...x, status: 'withdrawn' } : x)),
    },
  };
}
