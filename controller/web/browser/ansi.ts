// Turns a terminal byte stream into plain text for a <pre>: drops ANSI/VT100 escape sequences and control
// characters, keeps line breaks. Stateful, because a sequence may be split across two WebSocket messages.

// CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \), other two- and three-byte ESC sequences.
const SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()#][0-9A-Za-z]|\x1b[@-Z\\-_=>78]/g;
// A sequence cut off at the end of a chunk: kept back until the next chunk completes it.
const PARTIAL_TAIL = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[()#])?$/;
// What is left after sequences are gone: C0 controls except tab and newline, DEL, and C1 controls.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g;

/** A stream cleaner: push() each decoded chunk, get back its printable text. */
export interface AnsiStripper {
  push(text: string): string;
}

// Cursor positioning (CUP: ESC [ row ; col H or f): full-screen installers draw with it instead of newlines.
const CURSOR_TO = /^\x1b\[(\d*)(?:;\d*)?[Hf]$/;

// Creates a cleaner. CR LF and lone CR become LF (a carriage return redraws a line; in a log it starts one);
// moving the cursor to another row starts a line too, so a menu drawn row by row reads as one entry a line.
export function createAnsiStripper(): AnsiStripper {
  let held = '';
  let lastWasCr = false;
  let row = 1;
  const sequence = (seq: string): string => {
    const m = CURSOR_TO.exec(seq);
    if (!m) return '';
    const to = Number(m[1] || '1');
    if (to === row) return '';
    row = to;
    return '\n';
  };
  return {
    push(chunk: string): string {
      let text = held + chunk;
      held = '';
      const tail = PARTIAL_TAIL.exec(text);
      if (tail && tail[0].length > 0 && tail[0].length < 256) {
        held = tail[0];
        text = text.slice(0, tail.index);
      }
      text = text.replace(SEQUENCE, sequence);
      if (lastWasCr && text.startsWith('\n')) text = text.slice(1);
      lastWasCr = text.endsWith('\r');
      return text.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
    },
  };
}

// Strips a whole string at once.
export const stripAnsi = (text: string): string => createAnsiStripper().push(text);

// Tidies a log for reading: no trailing blanks on finished lines, at most one empty line in a row (full-screen
// programs clear rows with spaces). Idempotent, so it can be applied to the whole log after each chunk.
export const tidyLog = (text: string): string => text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
