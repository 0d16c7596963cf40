import { XepaError } from '../protocol/index.js';
import type { ConsoleLimits } from './limits.js';

/** The console endpoints whose concurrent connections are counted. */
export type ViewerKind = keyof ConsoleLimits['maxViewers'];

/** What a viewer may do: full access (vnc: type and point) or view only (vnc:view). */
export type ViewerRole = 'full' | 'view';

// Counts open console connections per endpoint so a misbehaving client cannot open thousands. Of each
// endpoint's slots, `reservedFull[kind]` are kept for full-access viewers: view-only ones may hold at most
// max - max(reserved, full open), so however many view-only viewers come, an operator with full access
// still gets in (until full-access viewers themselves fill the endpoint).
export class ViewerCounts {
  private readonly open = new Map<ViewerKind, number>();
  private readonly viewOnly = new Map<ViewerKind, number>();

  constructor(
    private readonly max: ConsoleLimits['maxViewers'],
    private readonly reservedFull: Partial<Record<ViewerKind, number>> = {},
  ) {}

  // Before the upgrade: refuses (ERR_UNAVAILABLE) when the endpoint is full for this role.
  check(kind: ViewerKind, role: ViewerRole = 'full'): void {
    const n = this.open.get(kind) ?? 0;
    if (n >= this.max[kind]) throw new XepaError('ERR_UNAVAILABLE', `too many ${kind} connections (${n} of ${this.max[kind]}): close one and retry`);
    if (role === 'view') {
      const views = this.viewOnly.get(kind) ?? 0;
      const cap = this.viewCap(kind);
      if (views >= cap) {
        throw new XepaError('ERR_UNAVAILABLE', `too many view-only ${kind} connections (${views} of ${cap}; ${this.reservedFull[kind] ?? 0} are kept for full access): close one and retry`);
      }
    }
  }

  // Counts one connection; call the returned function once when it closes.
  acquire(kind: ViewerKind, role: ViewerRole = 'full'): () => void {
    const bump = (m: Map<ViewerKind, number>, d: number): void => void m.set(kind, (m.get(kind) ?? 0) + d);
    bump(this.open, 1);
    if (role === 'view') bump(this.viewOnly, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(this.open, -1);
      if (role === 'view') bump(this.viewOnly, -1);
    };
  }

  // How many connections of this kind are open (of one role when given).
  count(kind: ViewerKind, role?: ViewerRole): number {
    const all = this.open.get(kind) ?? 0;
    const views = this.viewOnly.get(kind) ?? 0;
    return role === undefined ? all : role === 'view' ? views : all - views;
  }

  // The most view-only connections of this kind that may be open now.
  private viewCap(kind: ViewerKind): number {
    const full = this.count(kind, 'full');
    return Math.max(0, this.max[kind] - Math.max(this.reservedFull[kind] ?? 0, full));
  }
}
