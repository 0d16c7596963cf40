// A minimal DER (ASN.1 Distinguished Encoding Rules) encoder: just the types an X.509 certificate needs.

// Encodes a tag-length-value triple with a definite length (short or long form).
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) {
    len = Buffer.from([n]);
  } else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

// SEQUENCE of already-encoded elements.
export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));

// SET of already-encoded elements (callers pass one element, so DER ordering holds trivially).
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));

// INTEGER from an unsigned big-endian byte string: minimal, with a leading zero when the top bit is set.
export function uint(bytes: Buffer | number): Buffer {
  let b = typeof bytes === 'number' ? Buffer.from([bytes]) : bytes;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

// OBJECT IDENTIFIER from its dotted form ("1.2.840.10045.4.3.2").
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number.parseInt(a, 10));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let k = 0; k < chunk.length - 1; k++) chunk[k] = (chunk[k] ?? 0) | 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

// BIT STRING with no unused bits (signatures, public keys) or with `unused` trailing bits (key usage).
export const bitString = (bytes: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));

// OCTET STRING.
export const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);

// UTF8String.
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

// BOOLEAN.
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));

// Context-specific constructed tag [n] EXPLICIT around one encoded element.
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

// Context-specific primitive tag [n] IMPLICIT with raw content (GeneralName dNSName, iPAddress ...).
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always in UTC with seconds.
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20240102030405
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
