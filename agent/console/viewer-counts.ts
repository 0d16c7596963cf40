import { XepaError } from '../protocol/index.js';
import type { ConsoleLimits } from './limits.js';

/** The console endpoints whose concurrent connections are counted. */
export type ViewerKind = keyof ConsoleLimits['maxViewers'];

// Counts open console connections per endpoint so a misbehaving client cannot open thousands.
export class ViewerCounts {
  private readonly open = new Map<ViewerKind, number>();

  constructor(private readonly max: ConsoleLimits['maxViewers']) {}

  // Before the upgrade: refuses (ERR_UNAVAILABLE) when the endpoint is full.
  check(kind: ViewerKind): void {
    const n = this.open.get(kind) ?? 0;
    if (n >= this.max[kind]) throw new XepaError('ERR_UNAVAILABLE', `too many ${kind} connections (${n} of ${this.max[kind]}): close one and retry`);
  }

  // Counts one connection; call the returned function once when it closes.
  acquire(kind: ViewerKind): () => void {
    this.open.set(kind, (this.open.get(kind) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open.set(kind, (this.open.get(kind) ?? 1) - 1);
    };
  }

  // How many connections of this kind are open.
  count(kind: ViewerKind): number {
    return this.open.get(kind) ?? 0;
  }
}
