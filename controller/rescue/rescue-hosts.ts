// The hosts registered for a rescue boot from this controller (`xepa rescue add`): which agent id each one gets,
// where its netboot files are, and its one-time enrolment token (put into that host's apkovl, which is served only
// while the token is pending). File: $XEPA_HOME/rescue.json beside the controller's key, mode 0600.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ENROL_TOKEN, XepaError, isENOENT } from '../../agent/protocol/index.js';
import { writeFileAtomic } from '../vendor/store/index.js';

export const RESCUE_FILE = 'rescue.json';

// Where a host's rescue kernel, initramfs and modules come from (Alpine's netboot files, or the lab's own).
export const NetbootSource = z
  .object({ kernelUrl: z.string().url(), initrdUrl: z.string().url(), modloopUrl: z.string().url().optional(), alpineRepo: z.string().url().optional() })
  .strict();
export type NetbootSource = z.infer<typeof NetbootSource>;

export const RescueHost = z
  .object({
    host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
    agentId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    token: z.string().regex(ENROL_TOKEN),
    createdAt: z.string(),
    expiresAt: z.string(),
    enrolledAt: z.string().nullable().default(null),
    netboot: NetbootSource,
    consoles: z.array(z.string()).optional(), // kernel console= values (default tty0 and ttyS1,115200)
  })
  .strict();
export type RescueHost = z.output<typeof RescueHost>;

const RescueFile = z.object({ version: z.literal(1), hosts: z.array(RescueHost) }).strict();

export const rescuePath = (dir: string): string => join(dir, RESCUE_FILE);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

// Reads the file; missing is empty, damaged is ERR_CONFIG (never silently reset: it holds the pending tokens).
export async function readRescueHosts(file: string): Promise<RescueHost[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return [];
    throw new XepaError('ERR_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = RescueFile.safeParse(safeJson(text));
  if (!parsed.success) throw new XepaError('ERR_CONFIG', `${file} is damaged (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): fix or remove it`);
  return parsed.data.hosts;
}

async function writeRescueHosts(file: string, hosts: readonly RescueHost[]): Promise<void> {
  const sorted = [...hosts].sort((a, b) => a.host.localeCompare(b.host));
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, hosts: sorted }, null, 2)}\n`, 0o600);
}

// One change to the file at a time inside this process (enrolments and `rescue add` may race in `xepa serve`).
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

/** Registers (or re-registers) a host with a fresh token; returns the entry and the token, shown only now. */
export function addRescueHost(
  file: string,
  o: { host: string; agentId: string; ttlSeconds: number; netboot: NetbootSource; consoles?: string[]; now?: Date },
): Promise<{ entry: RescueHost; token: string }> {
  return serialized(async () => {
    const now = o.now ?? new Date();
    const token = randomBytes(32).toString('base64url');
    const entry = RescueHost.parse({
      host: o.host,
      agentId: o.agentId,
      token,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + o.ttlSeconds * 1000).toISOString(),
      enrolledAt: null,
      netboot: o.netboot,
      ...(o.consoles ? { consoles: o.consoles } : {}),
    });
    const hosts = (await readRescueHosts(file)).filter((h) => h.host !== o.host);
    await writeRescueHosts(file, [...hosts, entry]);
    return { entry, token };
  });
}

/** Whether a host's token can still be spent (its artifacts are served only then). */
export const isPending = (h: RescueHost, now: Date = new Date()): boolean => h.enrolledAt === null && Date.parse(h.expiresAt) > now.getTime();

/** Removes a host; false when it was not there. */
export function removeRescueHost(file: string, host: string): Promise<boolean> {
  return serialized(async () => {
    const hosts = await readRescueHosts(file);
    const kept = hosts.filter((h) => h.host !== host);
    if (kept.length === hosts.length) return false;
    await writeRescueHosts(file, kept);
    return true;
  });
}

/**
 * Spends a token: the host whose unspent, unexpired token it is, marked enrolled. ERR_FORBIDDEN otherwise, with
 * the reason (unknown, spent, expired, or issued for another agent id); the comparison is constant-time.
 */
export function redeemToken(file: string, token: string, agentId: string, now: Date = new Date()): Promise<RescueHost> {
  return serialized(async () => {
    const hosts = await readRescueHosts(file);
    const digest = Buffer.from(sha256(token), 'hex');
    const i = hosts.findIndex((h) => timingSafeEqual(Buffer.from(sha256(h.token), 'hex'), digest));
    const h = hosts[i];
    if (!h) throw new XepaError('ERR_FORBIDDEN', 'unknown enrolment token');
    if (h.enrolledAt !== null) throw new XepaError('ERR_FORBIDDEN', `the enrolment token of ${h.host} was spent at ${h.enrolledAt}: run \`xepa rescue add ${h.host}\` for a new one`);
    if (Date.parse(h.expiresAt) <= now.getTime()) throw new XepaError('ERR_FORBIDDEN', `the enrolment token of ${h.host} expired at ${h.expiresAt}`);
    if (h.agentId !== agentId) throw new XepaError('ERR_FORBIDDEN', `the enrolment token of ${h.host} was issued for agent ${h.agentId}, not ${agentId}`);
    const spent = { ...h, enrolledAt: now.toISOString() };
    hosts[i] = spent;
    await writeRescueHosts(file, hosts);
    return spent;
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
