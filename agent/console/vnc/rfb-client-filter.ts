import { XepaError } from '../../protocol/index.js';
import { frameClientMessage, viewerMaySend, type RfbMessageKind } from './rfb-messages.js';

/** What a VNC connection may do: everything, or only look. */
export type RfbAccess = 'full' | 'view';

type Phase = 'version' | 'server-security' | 'security-choice' | 'vnc-auth' | 'client-init' | 'messages' | 'passthrough';

const SECURITY_NONE = 1;
const SECURITY_VNC_AUTH = 2;
const SERVER_HEAD_BYTES = 16; // ProtocolVersion (12) + the RFB 3.3 security type (4)

/** Counts of the client messages a view-only filter dropped, by kind. */
export type DroppedCounts = Record<Exclude<RfbMessageKind, 'display'>, number>;

/**
 * Filters the client-to-server half of an RFB session. It never sees a socket: feed it the client's bytes
 * (pushClient) and, during the handshake, the server's (pushServer); it returns the bytes to forward.
 *
 * - Every connection: ClientInit's shared flag is forced to 1, so no viewer can disconnect the others.
 * - Full access: after ClientInit the stream passes through untouched (no per-message cost).
 * - View-only: every message is framed; KeyEvent, PointerEvent, ClientCutText, QEMU extended key events,
 *   gii input, xvp power control and SetDesktopSize are dropped; a message it cannot frame (or a security type
 *   it cannot follow, such as VeNCrypt) throws ERR_BAD_REQUEST / ERR_FORBIDDEN: the caller closes the connection.
 */
export class RfbClientFilter {
  private phase: Phase = 'version';
  private minor = 8;
  private head: Buffer = Buffer.alloc(0); // a partial handshake field or message header
  private serverHead: Buffer = Buffer.alloc(0);
  private remaining = 0; // bytes of the current message still to forward or skip
  private forwarding = true;
  readonly dropped: DroppedCounts = { key: 0, pointer: 0, clipboard: 0, control: 0 };

  constructor(readonly access: RfbAccess) {}

  // True once the stream is passed through as is (full access after ClientInit): pushClient is then the identity.
  get passthrough(): boolean {
    return this.phase === 'passthrough';
  }

  // True while the filter still wants to see the server's bytes (the first 16 of them, at most).
  get observingServer(): boolean {
    return this.serverHead.length < SERVER_HEAD_BYTES && this.phase !== 'passthrough' && this.phase !== 'messages';
  }

  // Notes server-to-client bytes during the handshake (RFB 3.3: the server picks the security type).
  pushServer(chunk: Buffer): void {
    if (!this.observingServer) return;
    const need = SERVER_HEAD_BYTES - this.serverHead.length;
    this.serverHead = Buffer.concat([this.serverHead, chunk.subarray(0, need)]);
    if (this.phase === 'server-security') this.serverSecurityKnown();
  }

  // Takes client-to-server bytes; returns what to forward to the server (possibly empty).
  pushClient(chunk: Buffer): Buffer {
    if (this.phase === 'passthrough') return chunk;
    const out: Buffer[] = [];
    let data = chunk;
    while (data.length > 0) {
      if ((this.phase as Phase) === 'passthrough') {
        out.push(data);
        break;
      }
      data = this.phase === 'messages' ? this.message(data, out) : this.handshake(data, out);
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  // Consumes one handshake field (or part of it); returns the unconsumed rest.
  private handshake(data: Buffer, out: Buffer[]): Buffer {
    const size = this.phase === 'version' ? 12 : this.phase === 'vnc-auth' ? 16 : 1;
    if (this.phase === 'server-security') {
      throw new XepaError('ERR_BAD_REQUEST', 'RFB 3.3 client sent data before the server chose a security type');
    }
    const { field, rest } = this.collect(data, size);
    if (!field) return rest;
    switch (this.phase) {
      case 'version':
        this.version(field);
        out.push(field);
        break;
      case 'security-choice':
        out.push(field);
        this.securityChosen(field[0]!);
        break;
      case 'vnc-auth':
        out.push(field);
        this.phase = 'client-init';
        break;
      case 'client-init':
        out.push(Buffer.from([1])); // shared: never let one viewer disconnect the others
        this.phase = this.access === 'full' ? 'passthrough' : 'messages';
        break;
    }
    return rest;
  }

  private version(field: Buffer): void {
    const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(field.toString('latin1'));
    if (!m || Number(m[1]) !== 3) {
      throw new XepaError('ERR_BAD_REQUEST', `not an RFB 3.x ProtocolVersion: ${JSON.stringify(field.toString('latin1'))}`);
    }
    this.minor = Number(m[2]);
    // RFC 6143 §7.1.1: 3.7 and later negotiate the security type; earlier versions (and 3.5) behave as 3.3.
    this.phase = this.minor >= 7 ? 'security-choice' : 'server-security';
    if (this.phase === 'server-security') this.serverSecurityKnown();
  }

  private serverSecurityKnown(): void {
    if (this.serverHead.length < SERVER_HEAD_BYTES) return;
    const type = this.serverHead.readUInt32BE(12);
    this.securityChosen(type);
  }

  private securityChosen(type: number): void {
    if (type === SECURITY_NONE) this.phase = 'client-init';
    else if (type === SECURITY_VNC_AUTH) this.phase = 'vnc-auth';
    else if (this.access === 'full') this.phase = 'passthrough'; // e.g. VeNCrypt: cannot follow, nothing to filter
    else throw new XepaError('ERR_FORBIDDEN', `view-only VNC cannot follow RFB security type ${type}: only None and VNC authentication`);
  }

  // Consumes (part of) one client message in a view-only session; returns the unconsumed rest.
  private message(data: Buffer, out: Buffer[]): Buffer {
    if (this.remaining > 0) {
      const take = Math.min(this.remaining, data.length);
      if (this.forwarding) out.push(data.subarray(0, take));
      this.remaining -= take;
      return data.subarray(take);
    }
    const saved = this.head.length; // header bytes kept from earlier chunks
    const head = saved > 0 ? Buffer.concat([this.head, data]) : data;
    const frame = frameClientMessage(head);
    if ('need' in frame) {
      this.head = Buffer.from(head); // still inside the header: wait for more
      return Buffer.alloc(0);
    }
    this.head = Buffer.alloc(0);
    // The header is complete: forward or skip the whole message, streaming its body as it comes.
    const have = Math.min(head.length, frame.length);
    this.forwarding = this.access === 'full' || viewerMaySend(frame.kind);
    if (this.forwarding) out.push(head.subarray(0, have));
    else this.dropped[frame.kind as keyof DroppedCounts]++;
    this.remaining = frame.length - have;
    return data.subarray(have - saved);
  }

  // Collects exactly `size` bytes of a handshake field across chunks.
  private collect(data: Buffer, size: number): { field?: Buffer; rest: Buffer } {
    const need = size - this.head.length;
    if (data.length < need) {
      this.head = Buffer.concat([this.head, data]);
      return { rest: Buffer.alloc(0) };
    }
    const field = this.head.length > 0 ? Buffer.concat([this.head, data.subarray(0, need)]) : data.subarray(0, need);
    this.head = Buffer.alloc(0);
    return { field, rest: data.subarray(need) };
  }
}
