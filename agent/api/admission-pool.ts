// Fair admission of unauthenticated connections (issue 11): every newcomer is admitted, and room is made by
// evicting the oldest connection of whoever holds the most. A flood from any number of connections therefore
// only ever pushes out the flooder's own oldest connections, and a client that connects and authenticates
// promptly is never the one pushed out — not even when it shares its address with the flood, as long as the
// flood does not open a whole per-source budget of connections while that client is shaking hands.

/** The budgets of the pool: all unauthenticated connections, and those of one source. */
export interface PoolLimits {
  total: number;
  perSource: number;
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
  private seq = 0;

  constructor(
    private readonly limits: PoolLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (limits.total < 1 || limits.perSource < 1) throw new RangeError('admission budgets must be at least 1');
  }

  // Admits `item` from `source` and returns the connections evicted to make room (already removed from the pool):
  // first the source's own oldest when the source is over its budget, then, while the pool is over its total,
  // the oldest connection of the source holding the most (ties: the one whose oldest connection is older).
  enter(item: T, source: string): Eviction<T>[] {
    if (this.sourceOf.has(item)) return [];
    const t = this.now();
    let mine = this.bySource.get(source);
    if (!mine) this.bySource.set(source, (mine = new Map()));
    mine.set(item, { since: t, seq: this.seq++ });
    this.sourceOf.set(item, source);
    const evicted: Eviction<T>[] = [];
    while (mine.size > this.limits.perSource) evicted.push(this.evictOldestOf(source, 'source-limit', t));
    while (this.sourceOf.size > this.limits.total) evicted.push(this.evictOldestOf(this.heaviestSource(), 'pending-limit', t));
    return evicted;
  }

  // Removes `item` (it authenticated, or it closed); false when it was not in the pool (already evicted or left).
  leave(item: T): boolean {
    const source = this.sourceOf.get(item);
    if (source === undefined) return false;
    this.sourceOf.delete(item);
    const mine = this.bySource.get(source)!;
    mine.delete(item);
    if (mine.size === 0) this.bySource.delete(source);
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

  private heaviestSource(): string {
    let best: { source: string; size: number; oldest: Entry } | undefined;
    for (const [source, entries] of this.bySource) {
      const oldest = entries.values().next().value as Entry;
      const better =
        !best ||
        entries.size > best.size ||
        (entries.size === best.size && (oldest.since < best.oldest.since || (oldest.since === best.oldest.since && oldest.seq < best.oldest.seq)));
      if (better) best = { source, size: entries.size, oldest };
    }
    return best!.source;
  }

  private evictOldestOf(source: string, reason: EvictionReason, t: number): Eviction<T> {
    const [item, entry] = this.bySource.get(source)!.entries().next().value as [T, Entry];
    this.leave(item);
    return { item, source, reason, ageMs: t - entry.since };
  }
}
