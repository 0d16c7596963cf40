import { z } from 'zod';

// The closed set of error codes. Codes are API: clients branch on them; messages are for people.
export const ERROR_CODES = [
  'ERR_BAD_REQUEST',
  'ERR_UNKNOWN_METHOD',
  'ERR_UNAUTHORIZED',
  'ERR_FORBIDDEN',
  'ERR_NOT_FOUND',
  'ERR_INTERNAL',
  'ERR_CONFIG',
  'ERR_CONNECT',
  'ERR_TLS_PIN',
  'ERR_TIMEOUT',
  'ERR_PROTOCOL_VERSION',
  'ERR_DEVICE_NOT_FOUND',
  'ERR_DEVICE_PROTECTED',
  'ERR_DEVICE_BUSY',
  'ERR_IOMMU_GROUP_SHARED',
  'ERR_PLAN_CHANGED',
  'ERR_JOB_STATE',
  'ERR_CANCELLED',
  'ERR_NO_SPACE',
  'ERR_NO_MEMORY',
  'ERR_FETCH_HTTP',
  'ERR_FETCH_DIGEST',
  'ERR_FETCH_SIZE',
  'ERR_FETCH_CHANGED',
  'ERR_FETCH_TIMEOUT',
  // An ISO with no El Torito boot entry for the VM's firmware (agent/iso/boot-firmware.ts)
  'ERR_ISO_FIRMWARE',
  'ERR_QMP_PROTOCOL',
  'ERR_QMP_COMMAND',
  'ERR_QMP_DISCONNECTED',
  'ERR_QEMU_START',
  'ERR_QEMU_EXIT',
  'ERR_FIRMWARE_MISSING',
  'ERR_AGENT_RESTARTED',
  'ERR_MODULE_INVALID',
  'ERR_STORE_CORRUPT',
  'ERR_STORE_LOCKED',
  'ERR_VALIDATION_FAILED',
  // An upstream signature that does not verify with the trusted keys (controller/vendor/upstream/inrelease.ts)
  'ERR_SIGNATURE',
  'ERR_NO_IOMMU',
  'ERR_VFIO_BIND',
  'ERR_VFIO_RESTORE',
  // Fidelity and finish (agent/fidelity, agent/finish): a host tool absent, the answer medium, UEFI boot entries
  'ERR_TOOL_MISSING',
  'ERR_ANSWER_MEDIUM',
  'ERR_EFI_BOOT',
  // Injection over SSH (controller/inject)
  'ERR_SSH_HOST_KEY',
  'ERR_SSH_AUTH',
  'ERR_NOT_ROOT',
  'ERR_NO_PACKAGE_MANAGER',
  'ERR_UNSUPPORTED_DISTRO',
  'ERR_REMOTE_COMMAND',
  // Consoles (agent/console): a console endpoint that cannot serve now (node-pty missing, too many viewers)
  'ERR_UNAVAILABLE',
  // The control plane's store (controller/plane): a replica's job lease was taken over or ran out; the database
  // refused or failed a statement
  'ERR_LEASE_LOST',
  'ERR_DATABASE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

// An error as it travels on the wire: `{ code, message, details? }`.
export const WireError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.unknown()).optional(),
});
export type WireError = z.infer<typeof WireError>;

// The one error class of XEPA: a code from ERROR_CODES, a message naming the object and the reason.
export class XepaError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'XepaError';
    this.code = code;
    if (opts.details) this.details = opts.details;
  }
}

// Is `err` a XepaError, optionally with this code?
export function isXepaError(err: unknown, code?: ErrorCode): err is XepaError {
  return err instanceof XepaError && (code === undefined || err.code === code);
}

// Turns any thrown value into its wire form; unknown errors become ERR_INTERNAL without leaking stacks.
export function toWireError(err: unknown): WireError {
  if (err instanceof XepaError) {
    return err.details ? { code: err.code, message: err.message, details: err.details } : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'ERR_INTERNAL', message };
}

// Rebuilds a XepaError from its wire form (unknown codes map to ERR_INTERNAL, the original kept in details).
export function fromWireError(w: WireError): XepaError {
  const known = (ERROR_CODES as readonly string[]).includes(w.code);
  const code = (known ? w.code : 'ERR_INTERNAL') as ErrorCode;
  const details = known ? w.details : { ...w.details, remoteCode: w.code };
  return new XepaError(code, w.message, details ? { details } : {});
}

// errno guard: true when err is a Node system error with this code (never match on message strings).
export function hasErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

export const isENOENT = (err: unknown): boolean => hasErrno(err, 'ENOENT');
