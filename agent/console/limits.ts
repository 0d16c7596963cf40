// Bounds of the console streams: every buffer between a viewer and QEMU is capped (DESIGN §5 limits).

/** Caps on buffers, viewers and messages of the console endpoints. */
export interface ConsoleLimits {
  highWaterBytes: number; // a WebSocket with this much unsent data pauses its source (unix socket, pty)
  lowWaterBytes: number; // ... which resumes once the WebSocket is below this
  serialRingBytes: number; // scrollback a late serial viewer receives first
  serialViewerBacklogBytes: number; // a serial viewer this far behind is dropped (the guest is never held up)
  maxViewers: { vnc: number; serial: number; qmp: number; shell: number; screendump: number }; // per agent
  vncReservedFull: number; // of maxViewers.vnc, slots view-only (vnc:view) viewers never take: kept for full access
  qmpMaxInFlight: number; // commands one QMP client may have waiting for QEMU
  qmpMaxMessageBytes: number; // one JSON command from a QMP client
}

// Defaults: 1 MiB in flight per viewer keeps 1080p raw frames flowing without letting a stalled one grow memory.
export const DEFAULT_CONSOLE_LIMITS: ConsoleLimits = {
  highWaterBytes: 1 << 20,
  lowWaterBytes: 256 << 10,
  serialRingBytes: 256 << 10,
  serialViewerBacklogBytes: 1 << 20,
  // vnc: 20 viewers on one job is a load case of docs/reliability.md; the agent server's per-scope limits
  // (agent/api/connection-gate.ts) sit above these.
  maxViewers: { vnc: 32, serial: 16, qmp: 8, shell: 4, screendump: 4 },
  // View-only viewers (web links handed out widely) get at most 24 of the 32: they cannot lock the operator out.
  vncReservedFull: 8,
  qmpMaxInFlight: 16,
  qmpMaxMessageBytes: 64 << 10,
};

// WebSocket close reasons are at most 123 bytes of UTF-8 (RFC 6455 §5.5): cut longer ones.
export function closeReason(text: string): string {
  let s = text;
  while (Buffer.byteLength(s) > 123) s = s.slice(0, -1);
  return s;
}

// WebSocket close codes the consoles use (RFC 6455 §7.4.1).
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
} as const;
