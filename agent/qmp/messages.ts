import { XepaError } from '../protocol/index.js';

// When QEMU emitted an event (QMP spec: seconds and microseconds since the epoch).
export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

// An asynchronous QMP event such as STOP, RESUME or SHUTDOWN.
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

// The first message of a QMP session.
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

// One QMP message after framing, sorted by what it is (QMP spec: "return", "error", "event", "QMP").
export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; errorClass: string; desc: string }
  | { kind: 'event'; event: QmpEvent };

// Sorts a decoded JSON object into a QMP message; anything else throws ERR_QMP_PROTOCOL.
export function classifyQmpMessage(obj: Record<string, unknown>): QmpMessage {
  if ('return' in obj) return { kind: 'return', id: obj.id, value: obj.return };
  if ('error' in obj) {
    const e = obj.error as { class?: unknown; desc?: unknown } | null;
    const errorClass = typeof e?.class === 'string' ? e.class : 'GenericError';
    const desc = typeof e?.desc === 'string' ? e.desc : JSON.stringify(obj.error);
    return { kind: 'error', id: obj.id, errorClass, desc };
  }
  if (typeof obj.event === 'string') {
    const ts = obj.timestamp as Partial<QmpTimestamp> | undefined;
    return {
      kind: 'event',
      event: {
        event: obj.event,
        data: isRecord(obj.data) ? obj.data : {},
        timestamp: { seconds: Number(ts?.seconds ?? 0), microseconds: Number(ts?.microseconds ?? 0) },
      },
    };
  }
  if (isRecord(obj.QMP)) {
    const g = obj.QMP as Partial<QmpGreeting>;
    return {
      kind: 'greeting',
      greeting: {
        version: g.version ?? { qemu: { major: 0, minor: 0, micro: 0 }, package: '' },
        capabilities: Array.isArray(g.capabilities) ? g.capabilities.map(String) : [],
      },
    };
  }
  throw new XepaError('ERR_QMP_PROTOCOL', `QMP sent an unknown message: ${JSON.stringify(obj).slice(0, 120)}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
