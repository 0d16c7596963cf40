import { mkdir } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { XepaError, redactUrl } from '../protocol/index.js';
import { checkLiteralHost } from './address-guard.js';
import { AttemptControl } from './attempt-control.js';
import { defaultBackoff, sleepUnlessAborted } from './backoff.js';
import { type BudgetIo, checkBudget } from './budget.js';
import { cancelledError, connectError, isTransient, transient } from './fetch-errors.js';
import { formatBytes } from './format.js';
import { reuseFinal } from './cached-iso.js';
import { type HttpRequestFn, defaultRequest, openResponse } from './http-get.js';
import { PartFile } from './part-file.js';
import { ifRangeValue, isoPaths, stateFromResponse } from './part-state.js';
import { type FetchProgress, type ProgressReporter, createProgressReporter } from './progress.js';
import { decideResponse } from './response-decision.js';

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
  for (;;) {
    const ctl = new AttemptControl(run.url, run.deps.idleTimeoutMs ?? 30_000, run.deps.signal);
    let outcome: 'done' | 'again';
    try {
      outcome = await attempt(run, ctl);
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

// One GET: decide from the status and headers, then stream the body into the part file.
async function attempt(run: Run, ctl: AttemptControl): Promise<'done' | 'again'> {
  const { part, log } = run;
  const headers: OutgoingHttpHeaders = { 'accept-encoding': 'identity', 'user-agent': 'xepa-agent' };
  if (part.bytes > 0) {
    headers.range = `bytes=${part.bytes}-`;
    const validator = ifRangeValue(part.state);
    if (validator) headers['if-range'] = validator;
  }
  const { res, url } = await openResponse(run.url, headers, {
    request: run.deps.request ?? defaultRequest,
    ctl,
    log,
    ca: run.deps.tls?.ca,
    allowLocal: run.deps.allowLocalAddresses === true,
  });
  const status = res.statusCode ?? 0;
  const d = decideResponse({ status, headers: res.headers, url: url.toString(), offset: part.bytes, state: part.state, expectedSize: run.req.size });
  log.debug({ status, offset: part.bytes, action: d.action, at: redactUrl(url) }, 'response');

  switch (d.action) {
    case 'fail':
      throw new XepaError(d.code, d.message, { details: { status, url: redactUrl(url) } });
    case 'retry':
      throw transient(
        new XepaError('ERR_FETCH_HTTP', `GET ${redactUrl(url)} failed: HTTP ${status}`, {
          details: { status, url: redactUrl(url), ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}) },
        }),
      );
    case 'restart':
      log.warn({ bytes: part.bytes, reason: d.reason }, 'starting the download over');
      await part.restart({ url: run.req.url });
      return 'again';
    case 'complete':
      log.info({ bytes: part.bytes }, 'partial file was already complete');
      return 'done';
    case 'write':
      break;
  }

  if (d.from === 0) {
    if (part.bytes > 0) log.warn({ bytes: part.bytes, reason: d.restartReason }, 'starting the download over');
    await part.restart(stateFromResponse(run.req.url, res.headers, d.total));
  } else if (d.total !== undefined && part.state.total === undefined) {
    await part.setState({ ...part.state, total: d.total });
  }
  if (d.total !== undefined) await checkRunBudget(run, d.total);
  await streamBody(run, ctl, res, d.total);
  return 'done';
}

// Copies the body into the part file, hashing as it goes; a cut before the expected end is transient.
async function streamBody(run: Run, ctl: AttemptControl, body: AsyncIterable<Buffer>, total: number | undefined): Promise<void> {
  const { part } = run;
  const end = total ?? run.req.size;
  let writeError: unknown;
  try {
    for await (const chunk of body) {
      ctl.touch();
      if (end !== undefined && part.bytes + chunk.length > end) {
        await part.discard();
        throw new XepaError('ERR_FETCH_SIZE', `${redactUrl(run.url)} sent more than the ${end} bytes expected; download deleted`, {
          details: { expected: end },
        });
      }
      try {
        await part.append(chunk);
      } catch (err) {
        writeError = err;
        throw err;
      }
      run.progress.update(part.bytes, end);
    }
  } catch (err) {
    if (ctl.reason) throw ctl.reason;
    if (writeError !== undefined || err instanceof XepaError) throw err;
    throw cutError(run, end, err);
  }
  if (ctl.reason) throw ctl.reason;
  if (end !== undefined && part.bytes < end) throw cutError(run, end, undefined);
}

function cutError(run: Run, total: number | undefined, cause: unknown): XepaError {
  if (total === undefined) return connectError(run.url, cause ?? new Error(`connection closed at byte ${run.part.bytes}`));
  return transient(
    new XepaError('ERR_FETCH_SIZE', `${redactUrl(run.url)} closed the connection at byte ${run.part.bytes} of ${total}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { bytes: run.part.bytes, total },
    }),
  );
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
