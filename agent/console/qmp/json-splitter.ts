import { XepaError } from '../../protocol/index.js';

/** One top-level item of a JSON stream: an object's text, or bytes that cannot start one. */
export type JsonStreamItem = { text: string } | { garbage: string };

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

// Splits a byte stream of concatenated JSON objects, as QMP clients send them (qemu.qmp writes objects with
// no separator; socat users type one per line). It never sees a socket: feed chunks, get items. Only brace
// depth and strings are tracked; JSON.parse judges each object. An object over maxBytes throws ERR_BAD_REQUEST.
export class JsonObjectSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private garbage = false;

  constructor(private readonly maxBytes: number) {}

  // Feeds one chunk; returns the items it completed, in order.
  feed(chunk: Buffer): JsonStreamItem[] {
    const items: JsonStreamItem[] = [];
    let start = 0; // where the current item begins in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.depth === 0 && !this.garbage) {
        if (isSpace(b)) {
          start = i + 1;
          continue;
        }
        if (b === OPEN) this.depth = 1;
        else this.garbage = true;
        start = i;
        continue;
      }
      if (this.garbage) {
        if (isSpace(b) || b === OPEN) {
          items.push({ garbage: this.take(chunk, start, i).toString('utf8') });
          this.garbage = false;
          if (b === OPEN) this.depth = 1;
          start = b === OPEN ? i : i + 1;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN || b === OPEN_ARRAY) this.depth++;
      else if (b === CLOSE || b === CLOSE_ARRAY) {
        this.depth--;
        if (this.depth === 0) {
          items.push({ text: this.take(chunk, start, i + 1).toString('utf8') });
          start = i + 1;
        }
      }
    }
    if ((this.depth > 0 || this.garbage) && start < chunk.length) this.keep(chunk.subarray(start));
    return items;
  }

  private keep(part: Buffer): void {
    this.size += part.length;
    if (this.size > this.maxBytes) throw new XepaError('ERR_BAD_REQUEST', `a QMP message is longer than ${this.maxBytes} bytes`);
    this.parts.push(Buffer.from(part));
  }

  private take(chunk: Buffer, start: number, end: number): Buffer {
    this.keep(chunk.subarray(start, end));
    const whole = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return whole;
  }
}
