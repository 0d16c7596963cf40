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
