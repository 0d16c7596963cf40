import type { Plan } from '../protocol/index.js';
import type { PlanFact } from './plan-basis.js';

// The plans this agent made lately, by hash, each with the facts it rested on, so that `install` with a planHash
// can tell what changed since. Bounded: the oldest are forgotten first (an install then only compares the hash).
export class PlanMemory {
  private readonly byHash = new Map<string, { plan: Plan; basis: PlanFact[] }>();

  constructor(private readonly limit = 64) {}

  remember(plan: Plan, basis: PlanFact[]): void {
    this.byHash.delete(plan.hash);
    this.byHash.set(plan.hash, { plan, basis });
    for (const oldest of this.byHash.keys()) {
      if (this.byHash.size <= this.limit) break;
      this.byHash.delete(oldest);
    }
  }

  recall(hash: string): { plan: Plan; basis: PlanFact[] } | undefined {
    return this.byHash.get(hash);
  }
}
