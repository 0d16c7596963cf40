import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isENOENT } from '../protocol/index.js';

const FILE = 'undo.json';

/** The names of a job's steps that hold something not yet undone, in the order they ran (job dir, mode 0600). */
export class UndoJournal {
  constructor(private readonly dir: string) {}

  // The steps still to undo; empty when there is no journal.
  pending(): string[] {
    try {
      const names: unknown = JSON.parse(readFileSync(join(this.dir, FILE), 'utf8'));
      return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
    } catch (err) {
      if (isENOENT(err) || err instanceof SyntaxError) return [];
      throw err;
    }
  }

  // Written before the step runs: a crash during it still leaves its name.
  enter(name: string): void {
    this.write([...this.pending(), name]);
  }

  // The step's undo ran.
  leave(name: string): void {
    const names = this.pending();
    const i = names.lastIndexOf(name);
    if (i >= 0) names.splice(i, 1);
    this.write(names);
  }

  // Atomically: a crash leaves the old list or the new one.
  private write(names: string[]): void {
    const tmp = join(this.dir, `${FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(names), { mode: 0o600 });
    renameSync(tmp, join(this.dir, FILE));
  }
}
