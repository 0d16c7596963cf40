// What the updater reports while it works, and what it reports at the end of each OS.

// One progress line.
export interface UpdateProgress {
  os: string;
  version?: string;
  step: 'poll' | 'download' | 'verify' | 'extract' | 'wrap' | 'validate' | 'promote' | 'reject' | 'skip';
  message: string;
  bytes?: number;
  total?: number;
}

// The outcome for one OS.
export interface UpdateResult {
  os: string;
  version?: string;
  // promoted: validated and now stable; candidate: stored, not promoted (validation failed or manual);
  // rejected: download or digest failed, nothing stored; up-to-date / skipped: nothing to do; failed: error.
  action: 'promoted' | 'candidate' | 'rejected' | 'up-to-date' | 'skipped' | 'failed';
  detail: string;
  code?: string;
  stable?: string;
}
