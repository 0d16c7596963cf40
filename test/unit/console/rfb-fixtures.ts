// Byte fixtures of RFB client-to-server traffic (RFC 6143 §7.5 and QEMU's extensions), as noVNC and TigerVNC
// send it, and of the server's handshake.

const u8 = (...b: number[]): Buffer => Buffer.from(b);
const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const s32 = (n: number): number[] => u32(n >>> 0);

export const VERSION_38 = Buffer.from('RFB 003.008\n', 'latin1');
export const VERSION_33 = Buffer.from('RFB 003.003\n', 'latin1');

// Server side of the handshake: version, then (3.8) the list of security types, or (3.3) the chosen type.
export const SERVER_HELLO_38_NONE = Buffer.concat([VERSION_38, u8(1, 1)]);
export const serverHello33 = (type: number): Buffer => Buffer.concat([VERSION_33, u8(...u32(type))]);

export const SECURITY_NONE = u8(1);
export const SECURITY_VNC_AUTH = u8(2);
export const SECURITY_VENCRYPT = u8(19);
export const VNC_AUTH_RESPONSE = Buffer.alloc(16, 0xab);
export const CLIENT_INIT_EXCLUSIVE = u8(0);
export const CLIENT_INIT_SHARED = u8(1);

// Messages that only ask for pixels (a viewer may send them).
export const SET_PIXEL_FORMAT = u8(0, 0, 0, 0, 32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0);
export const SET_ENCODINGS = u8(2, 0, ...u16(3), ...s32(0), ...s32(-223), ...s32(-258)); // raw, DesktopSize, QEMU ext key
export const FB_UPDATE_REQUEST = u8(3, 0, ...u16(0), ...u16(0), ...u16(720), ...u16(400));
export const FB_UPDATE_REQUEST_INCR = u8(3, 1, ...u16(0), ...u16(0), ...u16(720), ...u16(400));
export const CLIENT_FENCE = u8(248, 0, 0, 0, ...u32(0x80000001), 3, 0x61, 0x62, 0x63);
export const ENABLE_CONTINUOUS = u8(150, 1, ...u16(0), ...u16(0), ...u16(720), ...u16(400));
export const QEMU_AUDIO_ENABLE = u8(255, 1, ...u16(0));
export const QEMU_AUDIO_FORMAT = u8(255, 1, ...u16(2), 3, 2, ...u32(44100));

// Input: what a view-only viewer must never get to QEMU.
export const keyEvent = (down: boolean, keysym: number): Buffer => u8(4, down ? 1 : 0, 0, 0, ...u32(keysym));
export const POINTER_EVENT = u8(5, 1, ...u16(100), ...u16(200));
export const cutText = (text: string): Buffer => Buffer.concat([u8(6, 0, 0, 0, ...u32(Buffer.byteLength(text))), Buffer.from(text, 'latin1')]);
export const EXTENDED_CUT_TEXT = Buffer.concat([u8(6, 0, 0, 0, ...s32(-8)), u8(...u32(0x10000001), ...u32(0))]); // caps, negative length
export const QEMU_EXT_KEY = u8(255, 0, ...u16(1), ...u32(0x61), ...u32(0x1e));
export const XVP_REBOOT = u8(250, 0, 1, 3);
export const SET_DESKTOP_SIZE = Buffer.concat([u8(251, 0, ...u16(1920), ...u16(1080), 1, 0), Buffer.alloc(16, 0)]);
export const GII_LE = Buffer.concat([u8(253, 0x01, 4, 0), Buffer.alloc(4, 7)]); // little-endian length 4

// The client side of a complete 3.8 handshake with security None and an exclusive ClientInit.
export const CLIENT_HANDSHAKE_38 = Buffer.concat([VERSION_38, SECURITY_NONE, CLIENT_INIT_EXCLUSIVE]);
// ... and what reaches the server from it: the same, with ClientInit made shared.
export const FORWARDED_HANDSHAKE_38 = Buffer.concat([VERSION_38, SECURITY_NONE, CLIENT_INIT_SHARED]);
