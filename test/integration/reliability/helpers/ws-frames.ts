import { randomBytes } from 'node:crypto';

// WebSocket frames written by hand at the byte level (RFC 6455 §5.2), and the catalogue of malformed client
// frames that §5 – §8 name, each with the close code the RFC asks the receiving endpoint to answer with.

/** One frame as it goes on the wire; `claimedLength` writes a length the payload does not have. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  fin?: boolean; // default true
  rsv?: number; // bits RSV1..RSV3 as 0b100, 0b010, 0b001
  masked?: boolean; // default true: clients must mask (§5.3)
  claimedLength?: bigint; // the length field, when it must differ from the payload's
  lengthForm?: 7 | 16 | 64; // the length encoding; default the shortest
}

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

// Encodes a frame: header, extended length, masking key, masked payload.
export function frame(f: FrameSpec): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const len = f.claimedLength ?? BigInt(payload.length);
  const form = f.lengthForm ?? (len < 126n ? 7 : len < 65536n ? 16 : 64);
  const masked = f.masked ?? true;
  const head = Buffer.alloc(2 + (form === 16 ? 2 : form === 64 ? 8 : 0));
  head[0] = ((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (f.opcode & 0x0f);
  head[1] = (masked ? 0x80 : 0) | (form === 7 ? Number(len) : form === 16 ? 126 : 127);
  if (form === 16) head.writeUInt16BE(Number(len), 2);
  if (form === 64) head.writeBigUInt64BE(len, 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([head, key, body]);
}

// A close frame's payload: a status code and a reason (raw bytes, so they may be invalid UTF-8).
export const closePayload = (code: number, reason: Buffer = Buffer.alloc(0)): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, reason]);
};

// RFC 6455 §7.4.1 close codes an endpoint must answer a violation with.
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_DATA = 1007; // non-UTF-8 text
export const CLOSE_TOO_BIG = 1009;

/** One malformation: the bytes a client sends after the upgrade, and the close code the RFC expects back. */
export interface Malformation {
  name: string;
  bytes(maxPayload: number): Buffer;
  expectClose: number;
}

const INVALID_UTF8: Record<string, number[]> = {
  'a lone continuation byte': [0x80],
  'an overlong encoding of "/"': [0xc0, 0xaf],
  'a UTF-16 surrogate': [0xed, 0xa0, 0x80],
  'a code point above U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
  'a truncated sequence': [0x41, 0xe2, 0x82],
  'bytes 0xFE 0xFF': [0xfe, 0xff],
};

// Every kind of malformed client frame RFC 6455 names, expanded over its variants.
export function malformations(): Malformation[] {
  const m: Malformation[] = [];
  const add = (name: string, expectClose: number, bytes: (max: number) => Buffer): void => void m.push({ name, expectClose, bytes });
  // §10.4 size limits: a frame, a fragmented message, and lengths no implementation can hold.
  add('a binary frame one byte over the route limit', CLOSE_TOO_BIG, (max) => frame({ opcode: OP.binary, payload: Buffer.alloc(max + 1, 0x41) }));
  add('a text frame announcing the limit + 1 (16-bit length), payload never sent', CLOSE_TOO_BIG, (max) =>
    frame({ opcode: OP.text, claimedLength: BigInt(max + 1), lengthForm: max + 1 < 65536 ? 16 : 64 }));
  add('a fragmented message whose fragments together pass the limit', CLOSE_TOO_BIG, (max) =>
    Buffer.concat([frame({ opcode: OP.binary, fin: false, payload: Buffer.alloc((max >> 1) + 1) }), frame({ opcode: OP.continuation, payload: Buffer.alloc((max >> 1) + 1) })]));
  add('a 64-bit length with the most significant bit set', CLOSE_TOO_BIG, () => frame({ opcode: OP.binary, claimedLength: (1n << 63n) + 5n, lengthForm: 64 }));
  add('a 64-bit length of 2^53 (over what a receiver can hold)', CLOSE_TOO_BIG, () => frame({ opcode: OP.binary, claimedLength: 1n << 53n, lengthForm: 64 }));
  add('a 64-bit length of 4 GiB', CLOSE_TOO_BIG, () => frame({ opcode: OP.text, claimedLength: 1n << 32n, lengthForm: 64 }));
  // §8.1 text must be UTF-8, in data frames and in close reasons (§5.5.1).
  for (const [what, bytes] of Object.entries(INVALID_UTF8)) {
    add(`a text frame holding ${what}`, CLOSE_INVALID_DATA, () => frame({ opcode: OP.text, payload: Buffer.from(bytes) }));
  }
  add('a fragmented text message split inside a valid character, the rest invalid', CLOSE_INVALID_DATA, () =>
    Buffer.concat([frame({ opcode: OP.text, fin: false, payload: Buffer.from([0x68, 0xe2]) }), frame({ opcode: OP.continuation, payload: Buffer.from([0x28, 0xa1]) })]));
  add('a close reason that is not UTF-8', CLOSE_INVALID_DATA, () => frame({ opcode: OP.close, payload: closePayload(1000, Buffer.from([0xff, 0xfe])) }));
  // §5.1 / §5.3 a client frame must be masked.
  add('an unmasked binary frame', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.binary, payload: Buffer.from('hi'), masked: false }));
  add('an unmasked close frame', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.close, payload: closePayload(1000), masked: false }));
  // §5.2 RSV1-3 must be 0 unless an extension was negotiated (none is).
  for (const [bit, rsv] of [['RSV1', 4], ['RSV2', 2], ['RSV3', 1], ['RSV1-3', 7]] as const) {
    add(`a binary frame with ${bit} set`, CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.binary, rsv, payload: Buffer.from('x') }));
  }
  add('a ping with RSV1 set', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.ping, rsv: 4 }));
  // §5.2 reserved opcodes: non-control 0x3-0x7, control 0xB-0xF.
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    add(`reserved opcode 0x${op.toString(16)}`, CLOSE_PROTOCOL_ERROR, () => frame({ opcode: op, payload: Buffer.from('x') }));
  }
  // §5.5 control frames: at most 125 bytes, never fragmented.
  for (const [name, op] of [['ping', OP.ping], ['pong', OP.pong], ['close', OP.close]] as const) {
    add(`a ${name} of 126 bytes`, CLOSE_PROTOCOL_ERROR, () => frame({ opcode: op, payload: op === OP.close ? closePayload(1000, Buffer.alloc(124, 0x61)) : Buffer.alloc(126) }));
    add(`a fragmented ${name} (FIN clear)`, CLOSE_PROTOCOL_ERROR, () => frame({ opcode: op, fin: false, payload: op === OP.close ? closePayload(1000) : Buffer.from('p') }));
  }
  add('a ping announcing 126 bytes in a 16-bit length, never sent', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.ping, claimedLength: 126n, lengthForm: 16 }));
  // §5.4 fragmentation: a continuation needs a start, a new message must wait for the open one to end.
  add('a continuation frame with no message started', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.continuation, payload: Buffer.from('x') }));
  add('an unfinished continuation with no message started', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.continuation, fin: false, payload: Buffer.from('x') }));
  for (const [name, op] of [['text', OP.text], ['binary', OP.binary]] as const) {
    add(`a new ${name} frame while a fragmented message is open`, CLOSE_PROTOCOL_ERROR, () =>
      Buffer.concat([frame({ opcode: OP.binary, fin: false, payload: Buffer.from('a') }), frame({ opcode: op, payload: Buffer.from('b') })]));
  }
  // §7.4 close codes a peer must not send, and §5.5.1 a close body of one byte.
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    add(`a close frame with code ${code}`, CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.close, payload: closePayload(code) }));
  }
  add('a close frame with a 1-byte body', CLOSE_PROTOCOL_ERROR, () => frame({ opcode: OP.close, payload: Buffer.from([0x03]) }));
  return m;
}
