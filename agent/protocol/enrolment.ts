import { z } from 'zod';

// Rescue-boot enrolment (docs/injection.md, "Netboot"): an agent booted from the controller's iPXE script and
// apkovl reports who it is with the one-time token its config carries, so the controller can pin its TLS
// fingerprint without SSH. The token is spent by the first enrolment that presents it.

// The path on `xepa serve` that takes an enrolment (POST, JSON body EnrolRequest).
export const ENROL_PATH = '/vendor/v1/rescue/enrol';

// The token as `xepa rescue add` mints it: 32 random bytes, base64url.
export const ENROL_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const EnrolRequest = z
  .object({
    token: z.string().regex(ENROL_TOKEN, 'token: 43 characters of base64url'),
    agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    fingerprint: z.string().regex(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/i, 'fingerprint: SHA-256, colon-separated hex'),
    port: z.number().int().min(1).max(65535), // the port the agent listens on (its address is where the request came from)
    version: z.string().max(64),
  })
  .strict();
export type EnrolRequest = z.infer<typeof EnrolRequest>;

// What the controller answers to an accepted enrolment: the registry entry it recorded.
export const EnrolReply = z.object({ agentId: z.string(), address: z.string(), fingerprint: z.string() });
export type EnrolReply = z.infer<typeof EnrolReply>;
