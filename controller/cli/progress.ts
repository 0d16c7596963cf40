import type { JobEvent } from '../../agent/protocol/index.js';
import { isTerminal } from '../../agent/protocol/index.js';
import { line, type Output } from './output.js';

// Shows job events: a redrawn progress bar on a TTY, one plain line per event otherwise, JSON lines with --json.
export function createProgress(o: Output, mode: { json: boolean }): { event(e: JobEvent): void; note(text: string): void; end(): void } {
  const tty = !mode.json && Boolean(o.err.isTTY);
  let barShown = false;
  const clear = (): void => {
    if (barShown) o.err.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    event(e) {
      if (mode.json) return line(o.out, JSON.stringify(e));
      const pct = e.progress !== undefined ? ` ${(e.progress * 100).toFixed(0).padStart(3)}%` : '';
      if (tty && e.progress !== undefined && !isTerminal(e.state) && e.progress < 1) {
        const width = Math.max(10, Math.min(40, (o.err.columns ?? 80) - 60));
        const filled = Math.round(e.progress * width);
        clear();
        o.err.write(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${pct} ${e.state}: ${e.message}`.slice(0, (o.err.columns ?? 120) - 1));
        barShown = true;
        return;
      }
      clear();
      line(o.err, `${e.ts.slice(11, 19)} ${e.state.padEnd(10)}${pct} ${e.message}`);
    },
    note(text) {
      clear();
      if (!mode.json) line(o.err, text);
    },
    end: clear,
  };
}
