import { XepaError } from './errors.js';

// The US keyboard layout as QMP's QKeyCode names: what types a character through `send-key`. Shared by the agent's
// key scripts (agent/fidelity/keystrokes.ts) and the controller's `xepa type` (controller/console/qmp-type.ts).

/** The keys held together for one character, in press order (QKeyCode names, e.g. ['shift', 'a']). */
export type KeyChord = string[];

const NAMED: Record<string, string> = {
  ' ': 'spc', '\n': 'ret', '\t': 'tab', '-': 'minus', '=': 'equal', '[': 'bracket_left', ']': 'bracket_right',
  ';': 'semicolon', "'": 'apostrophe', '`': 'grave_accent', '\\': 'backslash', ',': 'comma', '.': 'dot', '/': 'slash',
};
// US layout: the shifted characters and the key they are on.
const SHIFTED: Record<string, string> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
  _: 'minus', '+': 'equal', '{': 'bracket_left', '}': 'bracket_right', ':': 'semicolon', '"': 'apostrophe',
  '~': 'grave_accent', '|': 'backslash', '<': 'comma', '>': 'dot', '?': 'slash',
};

// The chord that types one character on a US keyboard; ERR_BAD_REQUEST for what a US keyboard cannot type. Pure.
export function chordOf(ch: string): KeyChord {
  if (/^[a-z0-9]$/.test(ch)) return [ch];
  if (/^[A-Z]$/.test(ch)) return ['shift', ch.toLowerCase()];
  const named = NAMED[ch];
  if (named) return [named];
  const base = SHIFTED[ch];
  if (base) return ['shift', base];
  throw new XepaError('ERR_BAD_REQUEST', `cannot type ${JSON.stringify(ch)} on a US keyboard through send-key`);
}

// The chords that type `text`, one per character (by code point); refuses the whole text, naming the first
// character a US keyboard cannot type and where it is, before anything is typed. Pure.
export function chordsOf(text: string): KeyChord[] {
  const out: KeyChord[] = [];
  let at = 0;
  for (const ch of text) {
    try {
      out.push(chordOf(ch));
    } catch (err) {
      throw new XepaError('ERR_BAD_REQUEST', `cannot type ${JSON.stringify(ch)} (character ${at + 1} of the text) on a US keyboard through send-key`, { cause: err });
    }
    at++;
  }
  return out;
}
