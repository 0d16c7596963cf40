import { mkdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { XepaError, redactUrl } from '../protocol/index.js';
import { checkLiteralHost } from './address-guard.js';
import { type AttemptTarget, runAttempt } from './attempt.js';
import { type BudgetIo, checkBudget, formatBytes } from './budget.js';
import { reuseFinal } from './cached-iso.js';
import { AttemptControl, type HttpRequestFn, cancelledError, defaultRequest, isTransient } from './http-get.js';
import { PartFile, isoPaths } from './part-file.js';

// The whole fetch of one ISO: the request checked, a cached copy reused, the part file resumed, attempts retried
// with backoff (attempt.ts runs each one), progress reported, the digest verified and the file renamed.

// Which ISO to fetch and where to keep it.
export interface FetchIsoRequest {
  url: string;
  sha256: string;
  size?: number | undefined;
  destDir: string;
}

// How to fetch it: logger, progress, cancellation, retry policy, space/RAM budget and the injectable I/O.
export interface FetchIsoDeps {
  log: Logger;
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  retries?: number;
  backoffMs?: (attempt: number) => number;
  idleTimeoutMs?: number;
  budget?: { reserveBytes: number } & Partial<BudgetIo>;
  request?: HttpRequestFn;
  tls?: { ca?: string };
  now?: () => number;
  // Allow loopback and link-local sources (the agent option allowLocalIsoUrls; tests and the demo): refused by default.
  allowLocalAddresses?: boolean;
}

// A verified ISO on disk; `reused` when an existing copy was re-verified instead of downloaded.
export interface FetchIsoResult {
  path: string;
  sha256: string;
  size: number;
  reused: boolean;
}

// Everything one fetch carries between attempts.
interface Run {
  req: FetchIsoRequest;
  deps: FetchIsoDeps;
  sha: string;
  url: URL;
  log: Logger;
  part: PartFile;
  progress: ProgressReporter;
  budgetChecked: boolean;
}

// Downloads `req.url` to `<destDir>/<sha256>.iso` (DESIGN §4): resumable by Range, hashed while streaming, retried
// with backoff, checked against the space/RAM budget before the first byte, verified before the atomic rename.
export async function fetchIso(req: FetchIsoRequest, deps: FetchIsoDeps): Promise<FetchIsoResult> {
  const sha = req.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new XepaError('ERR_BAD_REQUEST', `sha256 must be 64 hex digits, got "${req.sha256}"`);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    // No cause: Node's ERR_INVALID_URL carries the whole input, which would reach logs and the wire.
    throw new XepaError('ERR_BAD_REQUEST', `invalid ISO URL ${redactUrl(req.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new XepaError('ERR_BAD_REQUEST', `ISO URL must be http(s), got ${url.protocol}`);
  }
  if (!deps.allowLocalAddresses) checkLiteralHost(url); // before anything is written; names: at connect time
  const log = deps.log.child({ mod: 'iso', url: redactUrl(url), sha256: sha });
  const cancelled = (): XepaError => cancelledError(url);
  if (deps.signal?.aborted) throw cancelled();

  await mkdir(req.destDir, { recursive: true, mode: 0o700 });
  const paths = isoPaths(req.destDir, sha);
  const reused = await reuseFinal(paths, sha, req.size, log, deps.signal, cancelled);
  if (reused) return { ...reused, reused: true };

  const part = await PartFile.open(paths, req.url, log, deps.signal, cancelled);
  const progress = createProgressReporter(deps.onProgress, { startBytes: part.bytes, ...(deps.now ? { now: deps.now } : {}) });
  const run: Run = { req, deps, sha, url, log, part, progress, budgetChecked: false };
  try {
    if (req.size !== undefined) await checkRunBudget(run, req.size);
    await downloadWithRetries(run);
    return { ...(await finish(run)), reused: false };
  } finally {
    await part.close();
  }
}

// Checks the budget once, for the bytes still to come, as soon as the total is known.
async function checkRunBudget(run: Run, total: number): Promise<void> {
  if (run.budgetChecked) return;
  run.budgetChecked = true;
  const { reserveBytes = 0, ...io } = run.deps.budget ?? {};
  const sizeBytes = Math.max(0, total - run.part.bytes);
  const report = await checkBudget({ sizeBytes, dir: run.req.destDir, reserveBytes }, io);
  run.log.debug({ ...report, needBytes: sizeBytes, reserveBytes }, 'ISO fits the budget');
}

// Runs attempts until the file is complete; transient failures are retried, and an attempt that made progress
// gives back the full retry allowance (a long download over a flaky link keeps going).
async function downloadWithRetries(run: Run): Promise<void> {
  const retries = run.deps.retries ?? 5;
  const backoff = run.deps.backoffMs ?? ((n: number) => defaultBackoff(n));
  let failures = 0;
  // Only new ground counts as progress: a server that cuts and then makes us start over must not loop forever.
  let highWater = run.part.bytes;
  const target: AttemptTarget = {
    url: run.url,
    rawUrl: run.req.url,
    expectedSize: run.req.size,
    part: run.part,
    log: run.log,
    http: { request: run.deps.request ?? defaultRequest, ca: run.deps.tls?.ca, allowLocal: run.deps.allowLocalAddresses === true },
    onTotal: (total) => checkRunBudget(run, total),
    onBytes: (bytes, end) => run.progress.update(bytes, end),
  };
  for (;;) {
    const ctl = new AttemptControl(run.url, run.deps.idleTimeoutMs ?? 30_000, run.deps.signal);
    let outcome: 'done' | 'again';
    try {
      outcome = await runAttempt(target, ctl);
    } catch (err) {
      const e = ctl.reason ?? err;
      if (!isTransient(e)) throw e;
      if (run.part.bytes > highWater) {
        highWater = run.part.bytes;
        failures = 0;
      }
      failures += 1;
      if (failures > retries) {
        if (e instanceof XepaError) {
          throw new XepaError(e.code, `${e.message} (gave up after ${failures} attempt${failures === 1 ? '' : 's'})`, { cause: e, ...(e.details ? { details: e.details } : {}) });
        }
        throw e;
      }
      const retryAfter = e instanceof XepaError && typeof e.details?.retryAfterMs === 'number' ? e.details.retryAfterMs : 0;
      const wait = Math.max(backoff(failures), retryAfter);
      run.log.warn({ err: (e as Error).message, attempt: failures, retries, waitMs: wait, bytes: run.part.bytes }, 'download attempt failed, retrying');
      await sleepUnlessAborted(wait, run.deps.signal, () => cancelledError(run.url));
      continue;
    } finally {
      ctl.dispose();
    }
    if (outcome === 'done') return;
  }
}

// Size checks, final progress, then digest verification and the atomic rename.
async function finish(run: Run): Promise<Omit<FetchIsoResult, 'reused'>> {
  const { part, req } = run;
  const total = part.state.total;
  if (req.size !== undefined && part.bytes !== req.size) {
    await part.discard();
    throw new XepaError('ERR_FETCH_SIZE', `${redactUrl(run.url)} delivered ${part.bytes} bytes, expected ${req.size}; download deleted`, {
      details: { bytes: part.bytes, expected: req.size },
    });
  }
  run.progress.final(part.bytes, total ?? part.bytes);
  const done = await part.finish(run.sha, req.url);
  run.log.info({ path: done.path, size: formatBytes(done.size) }, 'ISO downloaded and verified');
  return done;
}

// The default wait before retry `attempt` (1-based): exponential from 500 ms, capped at 30 s, with "equal jitter"
// (half fixed, half random) so many agents retrying one mirror do not hit it in lockstep.
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

// Sleeps `ms`, rejecting with `onAbort()` as soon as the signal fires.
async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  if (signal?.aborted) throw onAbort();
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw onAbort();
    throw err;
  }
}

// One progress report: bytes in the part file so far, the total when known, the current rate.
export interface FetchProgress {
  bytes: number;
  total?: number;
  rateBps?: number;
}

// A throttled progress sink: `update` reports at most every `intervalMs` or every 1 % of the total,
// `final` always reports.
export interface ProgressReporter {
  update(bytes: number, total: number | undefined): void;
  final(bytes: number, total: number | undefined): void;
}

// Builds a ProgressReporter around `onProgress`; rate is measured over this session's bytes only (not the resumed part).
export function createProgressReporter(
  onProgress: ((p: FetchProgress) => void) | undefined,
  opts: { now?: () => number; intervalMs?: number; startBytes?: number } = {},
): ProgressReporter {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 250;
  const t0 = now();
  let base = opts.startBytes ?? 0;
  let lastAt = -Infinity;
  let lastBytes = -1;

  const emit = (bytes: number, total: number | undefined, t: number): void => {
    lastAt = t;
    lastBytes = bytes;
    if (!onProgress) return;
    const p: FetchProgress = { bytes };
    if (total !== undefined) p.total = total;
    const secs = (t - t0) / 1000;
    if (secs > 0 && bytes >= base) p.rateBps = Math.round((bytes - base) / secs);
    onProgress(p);
  };

  return {
    update(bytes, total) {
      // A restart from zero: measure the rate from there on.
      if (bytes < lastBytes) base = Math.min(base, bytes);
      const t = now();
      const step = total ? total / 100 : Infinity;
      if (t - lastAt >= interval || bytes - lastBytes >= step) emit(bytes, total, t);
    },
    final(bytes, total) {
      emit(bytes, total, now());
    },
  };
}
