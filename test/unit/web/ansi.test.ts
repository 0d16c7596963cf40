import { describe, expect, it } from 'vitest';
import { createAnsiStripper, stripAnsi, tidyLog } from '../../../controller/web/browser/ansi.js';

describe('the serial log cleaner', () => {
  it('drops colour, cursor and title sequences and keeps the text', () => {
    expect(stripAnsi('\x1b[1;32mOK\x1b[0m booted\r\n')).toBe('OK booted\n');
    expect(stripAnsi('\x1b[2J\x1b[H\x1b[?25lGNU GRUB\x1b]0;title\x07 menu')).toBe('GNU GRUB menu');
    expect(stripAnsi('a\x1b(Bb\x1b7c\x1b8')).toBe('abc');
  });

  it('starts a line where a full-screen program moves the cursor to another row', () => {
    expect(stripAnsi('\x1b[2J\x1b[1;1Htitle\x1b[5;3H*first entry\x1b[5;78H|\x1b[6;3H second entry')).toBe('title\n*first entry|\n second entry');
  });

  it('turns carriage returns into line breaks and drops other control characters', () => {
    expect(stripAnsi('one\rtwo\r\nthree\x07\x00\tfour')).toBe('one\ntwo\nthree\tfour');
  });

  it('handles a sequence split across two messages', () => {
    const s = createAnsiStripper();
    expect(s.push('before \x1b[3')).toBe('before ');
    expect(s.push('1mred\x1b')).toBe('red');
    expect(s.push('[0m after')).toBe(' after');
  });

  it('handles CR LF split across two messages as one line break', () => {
    const s = createAnsiStripper();
    expect(s.push('line\r') + s.push('\nnext')).toBe('line\nnext');
  });

  it('tidies a log: trailing blanks of finished lines go, runs of empty lines shrink to one', () => {
    const log = 'menu   \n\n      \n     \n\nnext  ';
    expect(tidyLog(log)).toBe('menu\n\nnext  ');
    expect(tidyLog(tidyLog(log))).toBe(tidyLog(log));
  });
});
