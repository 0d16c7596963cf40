import { z } from 'zod';
import { WireError } from './errors.js';
import { JobEvent } from './jobs.js';

// Largest control message either side accepts, in bytes.
export const MAX_CONTROL_MESSAGE = 1 << 20;

// A request: `id` matches it to its response; `key` is the idempotency key (a retried `install` with the
// same key returns the same job instead of starting another).
export const RequestEnvelope = z
  .object({
    id: z.string().min(1).max(64),
    key: z.string().min(1).max(128),
    method: z.string().min(1).max(64),
    params: z.unknown().optional(),
  })
  .strict();
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

export const ResponseEnvelope = z.union([
  z.object({ id: z.string(), result: z.unknown() }).strict(),
  z.object({ id: z.string().nullable(), error: WireError }).strict(),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>;

// Server-pushed notifications (no id).
export const EventEnvelope = z.object({ event: z.literal('job.event'), data: JobEvent }).strict();
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const ServerMessage = z.union([EventEnvelope, ResponseEnvelope]);
export type ServerMessage = z.infer<typeof ServerMessage>;
