import { XepaError, chordsOf, type KeyChord } from '../../agent/protocol/index.js';
import type { QmpStreamSession } from './qmp-session.js';

/** How `xepa type` paces its chords. */
export interface TypeOptions {
  // Least time between two chords, from the reply to the next send (default 30 ms).
  paceMs?: number;
  // QMP send-key `hold-time`: QEMU queues a delay of this length after each press and each release (default 10 ms).
  holdMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

/** What was typed. */
export interface TypeResult {
  chords: number;
  keys: number;
  ms: number;
}

export const DEFAULT_TYPE_PACE_MS = 30;
export const DEFAULT_TYPE_HOLD_MS = 10;

// The wait after a chord's reply before the next one. QEMU answers send-key at once and plays the chord from its
// keyboard queue (a hold-time delay after each press and each release; QEMU drops events when that queue is full,
// ui/input.c queue_limit), so the next chord waits at least as long as this one takes to play.
export function gapAfter(chord: KeyChord, o: { paceMs?: number; holdMs?: number } = {}): number {
  return Math.max(o.paceMs ?? DEFAULT_TYPE_PACE_MS, 2 * (o.holdMs ?? DEFAULT_TYPE_HOLD_MS) * chord.length);
}

// Types `text` (US keymap, agent/protocol/keymap.ts) over one QMP session: one send-key per character, each
// answered before the next, paced by gapAfter. Refuses untypeable text before sending anything; a refused chord
// stops the typing with ERR_QMP_COMMAND naming how far it got.
export async function typeText(session: QmpStreamSession, text: string, o: TypeOptions = {}, now = Date.now): Promise<TypeResult> {
  const chords = chordsOf(text);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const hold = o.holdMs ?? DEFAULT_TYPE_HOLD_MS;
  const t0 = now();
  let keys = 0;
  for (const [i, chord] of chords.entries()) {
    if (o.signal?.aborted) throw new XepaError('ERR_CANCELLED', `typing stopped after ${i} of ${chords.length} characters`);
    try {
      await session.execute('send-key', { keys: chord.map((k) => ({ type: 'qcode', data: k })), 'hold-time': hold });
    } catch (err) {
      const e = err instanceof XepaError ? err : new XepaError('ERR_QMP_COMMAND', String(err));
      throw new XepaError(e.code, `${e.message} (after ${i} of ${chords.length} characters were typed)`, { cause: e, ...(e.details ? { details: e.details } : {}) });
    }
    keys += chord.length;
    if (i < chords.length - 1) await sleep(gapAfter(chord, { ...(o.paceMs !== undefined ? { paceMs: o.paceMs } : {}), holdMs: hold }));
  }
  return { chords: chords.length, keys, ms: now() - t0 };
}

// The CLI's TEXT argument: `\n` is Enter, `\t` Tab, `\\` a backslash; any other backslash sequence is refused
// (so a typo never types something else).
export function unescapeTypeText(arg: string): string {
  return arg.replace(/\\(.?)/gs, (_m, c: string) => {
    if (c === 'n') return '\n';
    if (c === 't') return '\t';
    if (c === '\\') return '\\';
    throw new XepaError('ERR_BAD_REQUEST', `unknown escape \\${c} in the text: use \\n (Enter), \\t (Tab) or \\\\ (a backslash)`);
  });
}
