// A fixed-capacity byte buffer keeping the most recent bytes written to it (the serial scrollback).
export class ByteRing {
  private readonly buf: Buffer;
  private start = 0; // index of the oldest byte
  private size = 0;

  constructor(readonly capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  // Bytes held (at most capacity).
  get length(): number {
    return this.size;
  }

  // Appends bytes; the oldest ones fall out once the ring is full.
  write(chunk: Buffer): void {
    if (this.capacity === 0 || chunk.length === 0) return;
    const data = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    const end = (this.start + this.size) % this.capacity;
    const first = Math.min(data.length, this.capacity - end);
    data.copy(this.buf, end, 0, first);
    data.copy(this.buf, 0, first);
    const overflow = Math.max(0, this.size + data.length - this.capacity);
    this.size = Math.min(this.capacity, this.size + data.length);
    this.start = (this.start + overflow) % this.capacity;
  }

  // A copy of what the ring holds, oldest first.
  snapshot(): Buffer {
    const firstLen = Math.min(this.size, this.capacity - this.start);
    return Buffer.concat([this.buf.subarray(this.start, this.start + firstLen), this.buf.subarray(0, this.size - firstLen)]);
  }
}
