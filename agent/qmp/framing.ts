import { XepaError } from '../protocol/index.js';

// Default cap on one QMP line (every byte before the LF, CR included): large replies (query-block with many nodes) stay far below it.
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;

/**
 * Splits a QMP byte stream into JSON objects. QMP sends one JSON object per line, terminated by CRLF.
 * It never sees a socket: feed it chunks, get objects out. Any oversize or non-object line throws
 * ERR_QMP_PROTOCOL; after that the stream is unusable and the caller should drop the connection.
 */
export class QmpFramer {
  private readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(opts: { maxLineBytes?: number } = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  // Feeds one chunk; returns the complete objects it finished, in order.
  feed(chunk: Buffer | string): Record<string, unknown>[] {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const out: Record<string, unknown>[] = [];
    for (;;) {
      const nl = buf.indexOf(LF);
      if (nl === -1) {
        this.keep(buf);
        return out;
      }
      this.keep(buf.subarray(0, nl));
      const line = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      buf = buf.subarray(nl + 1);
      const obj = parseLine(line);
      if (obj) out.push(obj);
    }
  }

  // Bytes received that do not yet form a whole line (a closed stream with a partial line lost data).
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      throw new XepaError('ERR_QMP_PROTOCOL', `QMP line longer than ${this.maxLineBytes} bytes`);
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }
}

function parseLine(line: Buffer): Record<string, unknown> | undefined {
  const text = line.toString('utf8').trim(); // drops the CR of CRLF
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new XepaError('ERR_QMP_PROTOCOL', `QMP sent a line that is not JSON: ${preview(text)}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new XepaError('ERR_QMP_PROTOCOL', `QMP sent JSON that is not an object: ${preview(text)}`);
  }
  return value as Record<string, unknown>;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

// Serialises one command for the wire: a JSON object and CRLF (QEMU accepts any whitespace between objects).
export function encodeQmpMessage(msg: Record<string, unknown>): string {
  return `${JSON.stringify(msg)}\r\n`;
}
