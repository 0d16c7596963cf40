import { chordOf, type KeyChord, type KeyStep } from '../protocol/index.js';

// The US keymap (chordOf) lives in agent/protocol/keymap.ts: the controller's `xepa type` uses it too.
export { chordOf, type KeyChord };

// One action of a running script: press a chord, or wait.
export type KeyAction = { keys: KeyChord } | { waitMs: number };

// Expands a script into actions (text becomes one chord per character). Pure; throws on untypeable text.
export function keyActions(script: KeyStep[]): KeyAction[] {
  const out: KeyAction[] = [];
  for (const step of script) {
    if ('waitMs' in step) out.push({ waitMs: step.waitMs });
    else if ('keys' in step) out.push({ keys: step.keys });
    else for (const ch of step.text) out.push({ keys: chordOf(ch) });
  }
  return out;
}

// What runKeyScript needs: QMP, a clock, and a way to learn that the job gave up.
export interface KeyScriptDeps {
  qmp: (command: string, args: Record<string, unknown>) => Promise<unknown>;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Pause between two chords so slow boot menus keep up (default 60 ms). */
  gapMs?: number;
}

/**
 * Types a keystroke script into the VM through QMP send-key (boot menus, installer prompts).
 * Returns how many chords were sent; stops quietly when `signal` aborts (the VM is going away).
 */
export async function runKeyScript(script: KeyStep[], deps: KeyScriptDeps): Promise<number> {
  let sent = 0;
  for (const action of keyActions(script)) {
    if (deps.signal?.aborted) break;
    if ('waitMs' in action) {
      await deps.sleep(action.waitMs);
      continue;
    }
    await deps.qmp('send-key', { keys: action.keys.map((k) => ({ type: 'qcode', data: k })) });
    sent++;
    await deps.sleep(deps.gapMs ?? 60);
  }
  return sent;
}
