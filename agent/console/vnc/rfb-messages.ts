import { XepaError } from '../../protocol/index.js';

// RFB (RFC 6143 and the community extensions QEMU and noVNC use) client-to-server message framing.
// Pure: given the first bytes of a message, how long the whole message is and whether it is input.

// The client-to-server message types this parser knows.
export const RFB_CLIENT_MESSAGE = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  EnableContinuousUpdates: 150,
  ClientFence: 248,
  Xvp: 250,
  SetDesktopSize: 251,
  Gii: 253,
  Qemu: 255,
} as const;

// QEMU client message subtypes (type 255).
const QEMU_EXTENDED_KEY_EVENT = 0;
const QEMU_AUDIO = 1;

/** What a message does, for the view-only policy. */
export type RfbMessageKind = 'display' | 'key' | 'pointer' | 'clipboard' | 'control';

/** The framing of one message once enough of its header is known. */
export interface RfbMessageFrame {
  type: number;
  length: number; // the whole message, header included
  kind: RfbMessageKind;
}

/** More header bytes are needed before the length is known. */
export interface RfbNeedMore {
  need: number; // header bytes needed in total (not additional)
}

const fixed = (type: number, length: number, kind: RfbMessageKind): RfbMessageFrame => ({ type, length, kind });

// Reads the header at the start of `head` (a message start): the whole message's length and kind, or how many
// header bytes are needed first. Throws ERR_BAD_REQUEST for a message type or subtype it cannot frame.
export function frameClientMessage(head: Buffer): RfbMessageFrame | RfbNeedMore {
  if (head.length < 1) return { need: 1 };
  const type = head[0]!;
  switch (type) {
    case RFB_CLIENT_MESSAGE.SetPixelFormat:
      return fixed(type, 20, 'display');
    case RFB_CLIENT_MESSAGE.FramebufferUpdateRequest:
      return fixed(type, 10, 'display');
    case RFB_CLIENT_MESSAGE.KeyEvent:
      return fixed(type, 8, 'key');
    case RFB_CLIENT_MESSAGE.PointerEvent:
      return fixed(type, 6, 'pointer');
    case RFB_CLIENT_MESSAGE.EnableContinuousUpdates:
      return fixed(type, 10, 'display');
    case RFB_CLIENT_MESSAGE.Xvp: // power control (shutdown, reboot, reset): never for a viewer
      return fixed(type, 4, 'control');
    case RFB_CLIENT_MESSAGE.SetEncodings:
      if (head.length < 4) return { need: 4 };
      return fixed(type, 4 + 4 * head.readUInt16BE(2), 'display');
    case RFB_CLIENT_MESSAGE.ClientCutText: {
      if (head.length < 8) return { need: 8 };
      // A negative length announces the extended clipboard format; its payload is |length| bytes.
      const len = head.readInt32BE(4);
      return fixed(type, 8 + Math.abs(len), 'clipboard');
    }
    case RFB_CLIENT_MESSAGE.ClientFence:
      if (head.length < 9) return { need: 9 };
      return fixed(type, 9 + head[8]!, 'display');
    case RFB_CLIENT_MESSAGE.SetDesktopSize: // asks the guest to change its resolution
      if (head.length < 8) return { need: 8 };
      return fixed(type, 8 + 16 * head[6]!, 'control');
    case RFB_CLIENT_MESSAGE.Gii: {
      if (head.length < 4) return { need: 4 };
      const bigEndian = (head[1]! & 0x80) !== 0;
      return fixed(type, 4 + (bigEndian ? head.readUInt16BE(2) : head.readUInt16LE(2)), 'pointer');
    }
    case RFB_CLIENT_MESSAGE.Qemu:
      return frameQemuMessage(head);
    default:
      throw new XepaError('ERR_BAD_REQUEST', `RFB client message type ${type} is not one the view-only filter can frame`);
  }
}

function frameQemuMessage(head: Buffer): RfbMessageFrame | RfbNeedMore {
  if (head.length < 2) return { need: 2 };
  const sub = head[1]!;
  if (sub === QEMU_EXTENDED_KEY_EVENT) return fixed(255, 12, 'key');
  if (sub === QEMU_AUDIO) {
    if (head.length < 4) return { need: 4 };
    const op = head.readUInt16BE(2);
    if (op === 0 || op === 1) return fixed(255, 4, 'display'); // enable / disable audio capture
    if (op === 2) return fixed(255, 10, 'display'); // set audio format
    throw new XepaError('ERR_BAD_REQUEST', `QEMU audio client message operation ${op} is unknown`);
  }
  throw new XepaError('ERR_BAD_REQUEST', `QEMU client message subtype ${sub} is unknown`);
}

// Does a view-only viewer get to send this kind of message? Only what asks for pixels.
export const viewerMaySend = (kind: RfbMessageKind): boolean => kind === 'display';
