import { describe, expect, it } from 'vitest';
import { chordOf, keyActions, runKeyScript } from '../../../agent/fidelity/index.js';
import { codeOf } from '../../support/error-code.js';

describe('boot-menu keystrokes', () => {
  it('types letters, capitals, digits and US-layout symbols as QEMU key chords', () => {
    expect(chordOf('a')).toEqual(['a']);
    expect(chordOf('A')).toEqual(['shift', 'a']);
    expect(chordOf('7')).toEqual(['7']);
    expect(chordOf('=')).toEqual(['equal']);
    expect(chordOf(':')).toEqual(['shift', 'semicolon']);
    expect(chordOf('\n')).toEqual(['ret']);
    expect(chordOf(' ')).toEqual(['spc']);
  });

  it('refuses a character a US keyboard cannot type', () => {
    expect(codeOf(() => chordOf('é'))).toBe('ERR_BAD_REQUEST');
  });

  it('expands a script: waits stay waits, chords stay chords, text becomes one chord per character', () => {
    expect(keyActions([{ waitMs: 3000 }, { keys: ['ctrl', 'alt', 'delete'] }, { text: 'e=1\n' }])).toEqual([
      { waitMs: 3000 }, { keys: ['ctrl', 'alt', 'delete'] }, { keys: ['e'] }, { keys: ['equal'] }, { keys: ['1'] }, { keys: ['ret'] },
    ]);
  });

  it('sends each chord with send-key in order and sleeps where the script waits', async () => {
    const calls: unknown[] = [];
    const sent = await runKeyScript([{ waitMs: 500 }, { text: 'Hi' }, { keys: ['ret'] }], {
      qmp: async (command, args) => void calls.push([command, args]),
      sleep: async (ms) => void calls.push(['sleep', ms]),
      gapMs: 10,
    });
    expect(sent).toBe(3);
    expect(calls).toEqual([
      ['sleep', 500],
      ['send-key', { keys: [{ type: 'qcode', data: 'shift' }, { type: 'qcode', data: 'h' }] }], ['sleep', 10],
      ['send-key', { keys: [{ type: 'qcode', data: 'i' }] }], ['sleep', 10],
      ['send-key', { keys: [{ type: 'qcode', data: 'ret' }] }], ['sleep', 10],
    ]);
  });

  it('stops typing once the job aborts', async () => {
    const ac = new AbortController();
    const sent = await runKeyScript([{ text: 'abc' }], {
      qmp: async () => ac.abort(),
      sleep: async () => undefined,
      signal: ac.signal,
    });
    expect(sent).toBe(1);
  });
});
