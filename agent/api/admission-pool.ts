// Fair admission of unauthenticated connections (issue 11): room is made by evicting the oldest connection of
// whoever holds the most, never by refusing a newcomer because of others. A flood from any number of connections
// therefore only ever pushes out the flooder's own oldest connections, and a client that connects and
// authenticates promptly is never the one pushed out. The one refusal: a source over its own budget whose oldest
// connection is younger than the grace (it churns) has its newcomer refused, before any TLS work is spent on it.

/** The budgets of the pool: all unauthenticated connections, and those of one source. */
export interface PoolLimits {
  total: number;
  perSource: number;
  // A full source gives up its oldest connection only when that one has waited at least this long; before, the
  // newcomer of that source is the one refused. A source that reconnects as fast as it is evicted would otherwise
  // make the agent pay a TLS handshake per connect it opens; this way it pays at most perSource per graceMs, and
  // evenly: one of its own evictions at most every graceMs / perSource (a burst of handshakes the moment its
  // connections all come of age would delay everyone else's handshake behind it).
  graceMs?: number;
}

/** Why a connection was evicted: its source held its whole budget, or the pool as a whole was full. */
export type EvictionReason = 'source-limit' | 'pending-limit';

/** A connection pushed out to make room for a newcomer. */
export interface Eviction<T> {
  item: T;
  source: string;
  reason: EvictionReason;
  ageMs: number; // how long it had been waiting, by the pool's clock
}

interface Entry {
  since: number;
  seq: number; // breaks ties between entries admitted in the same clock tick
}

// Holds unauthenticated connections per source in arrival order (a Map iterates in insertion order, so the first
// entry of a source is its oldest). The clock is injected; nothing here touches a socket.
export class AdmissionPool<T> {
  private readonly bySource = new Map<string, Map<T, Entry>>();
  private readonly sourceOf = new Map<T, string>();
  private readonly lastOwnEviction = new Map<string, number>(); // per source with connections waiting
  private seq = 0;

  constructor(
    private readonly limits: PoolLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (limits.total < 1 || limits.perSource < 1) throw new RangeError('admission budgets must be at least 1');
  }

  // Admits `item` from `source` and returns the connections evicted to make room (already removed from the pool).
  // Over the source's budget: the source's own oldest goes (or, within the grace, the newcomer). Over the total: the
  // oldest of the source holding the most goes; when that is the newcomer's own source alone, the grace applies
  // as above, so sources taking turns at evicting each other cannot churn faster than their connections age.
  enter(item: T, source: string): Eviction<T>[] {
    if (this.sourceOf.has(item)) return [];
    const t = this.now();
    let mine = this.bySource.get(source);
    if (!mine) this.bySource.set(source, (mine = new Map()));
    mine.set(item, { since: t, seq: this.seq++ });
    this.sourceOf.set(item, source);
    const evicted: Eviction<T>[] = [];
    const ownOldest = (reason: EvictionReason): boolean => {
      const oldest = mine.values().next().value as Entry;
      const grace = this.limits.graceMs ?? 0;
      const paced = t - (this.lastOwnEviction.get(source) ?? -Infinity) >= grace / this.limits.perSource;
      if (t - oldest.since >= grace && paced && mine.size > 1) {
        evicted.push(this.evictOldestOf(source, reason, t));
        this.lastOwnEviction.set(source, t);
        return true;
      }
      this.leave(item); // the source churns: its newcomer is refused, its waiting connections keep their places
      evicted.push({ item, source, reason, ageMs: 0 });
      return false;
    };
    while (mine.size > this.limits.perSource) if (!ownOldest('source-limit')) return evicted;
    while (this.sourceOf.size > this.limits.total) {
      const other = this.heaviest(source);
      const mineOldest = mine.values().next().value as Entry;
      if (!other || mine.size > other.size) {
        if (!ownOldest('pending-limit')) return evicted;
      } else if (mine.size === other.size && older(mineOldest, other.oldest)) {
        evicted.push(this.evictOldestOf(source, 'pending-limit', t));
      } else evicted.push(this.evictOldestOf(other.source, 'pending-limit', t));
    }
    return evicted;
  }

  // Removes `item` (it authenticated, or it closed); false when it was not in the pool (already evicted or left).
  leave(item: T): boolean {
    const source = this.sourceOf.get(item);
    if (source === undefined) return false;
    this.sourceOf.delete(item);
    const mine = this.bySource.get(source)!;
    mine.delete(item);
    if (mine.size === 0) {
      this.bySource.delete(source);
      this.lastOwnEviction.delete(source);
    }
    return true;
  }

  // Whether `item` is waiting in the pool.
  has(item: T): boolean {
    return this.sourceOf.has(item);
  }

  // How many connections wait, in all or from one source.
  size(source?: string): number {
    return source === undefined ? this.sourceOf.size : (this.bySource.get(source)?.size ?? 0);
  }

  // How many distinct sources have a connection waiting.
  sourceCount(): number {
    return this.bySource.size;
  }

  // The source holding the most connections other than `except` (ties: the one whose oldest connection is older).
  private heaviest(except: string): { source: string; size: number; oldest: Entry } | undefined {
    let best: { source: string; size: number; oldest: Entry } | undefined;
    for (const [source, entries] of this.bySource) {
      if (source === except) continue;
      const oldest = entries.values().next().value as Entry;
      if (!best || entries.size > best.size || (entries.size === best.size && older(oldest, best.oldest))) best = { source, size: entries.size, oldest };
    }
    return best;
  }

  private evictOldestOf(source: string, reason: EvictionReason, t: number): Eviction<T> {
    const [item, entry] = this.bySource.get(source)!.entries().next().value as [T, Entry];
    this.leave(item);
    return { item, source, reason, ageMs: t - entry.since };
  }
}

// Whether entry a was admitted before entry b.
function older(a: Entry, b: Entry): boolean {
  return a.since < b.since || (a.since === b.since && a.seq < b.seq);
}
