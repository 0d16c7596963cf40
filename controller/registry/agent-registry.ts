import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { XepaError, isENOENT, normalizeFingerprint } from '../../agent/protocol/index.js';
import { defaultControllerDir } from '../auth/index.js';

// One agent the controller knows: where it is and which TLS certificate it must present.
export const RegisteredAgent = z.object({
  id: z.string().min(1),
  address: z.string().min(1), // host:port the controller dials (wss://address)
  fingerprint: z.string().transform((s, ctx) => {
    try {
      return normalizeFingerprint(s);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not a SHA-256 fingerprint' });
      return z.NEVER;
    }
  }),
  lastSeen: z.string().nullable().default(null), // ISO time of the last successful pinned contact
  injectedAt: z.string().nullable().default(null), // ISO time of the last `xepa inject`
  version: z.string().nullable().default(null), // agent version it last reported
  ssh: z.string().optional(), // ssh://user@host:port it was injected through
});
// A registry entry after parsing (fingerprint canonical, optional fields defaulted).
export type RegisteredAgent = z.output<typeof RegisteredAgent>;

const RegistryFile = z.object({ version: z.literal(1), agents: z.array(RegisteredAgent) });

// The registry's file name inside the controller directory.
export const REGISTRY_FILE = 'agents.json';

// The registry file of a controller directory ($XEPA_HOME or ~/.config/xepa by default).
export function registryPath(dir: string = defaultControllerDir()): string {
  return join(dir, REGISTRY_FILE);
}

// Reads the registry; a missing file is an empty registry, a damaged one is ERR_CONFIG (never silently reset).
export async function readRegistry(file: string = registryPath()): Promise<RegisteredAgent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return [];
    throw new XepaError('ERR_CONFIG', `cannot read the agent registry ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new XepaError('ERR_CONFIG', `the agent registry ${file} is not JSON: fix or remove it`, { cause: err });
  }
  const parsed = RegistryFile.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new XepaError('ERR_CONFIG', `the agent registry ${file} is damaged (${why}): fix or remove it`);
  }
  return parsed.data.agents;
}

// Writes the whole registry atomically (temporary file, fsync, rename), mode 0600.
export async function writeRegistry(file: string, agents: readonly RegisteredAgent[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const sorted = [...agents].sort((a, b) => a.id.localeCompare(b.id));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify({ version: 1, agents: sorted }, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

// Reads, changes and writes the registry in one step; returns what the change returned.
export async function updateRegistry<T>(file: string, change: (agents: RegisteredAgent[]) => T): Promise<T> {
  const agents = await readRegistry(file);
  const result = change(agents);
  await writeRegistry(file, agents);
  return result;
}

// Adds an agent or updates the one with the same id (fields not given keep their value).
export async function recordAgent(file: string, entry: Partial<RegisteredAgent> & Pick<RegisteredAgent, 'id'>): Promise<RegisteredAgent> {
  return updateRegistry(file, (agents) => {
    const i = agents.findIndex((a) => a.id === entry.id);
    const merged = RegisteredAgent.parse({ ...(i >= 0 ? agents[i] : {}), ...entry });
    if (i >= 0) agents[i] = merged;
    else agents.push(merged);
    return merged;
  });
}

// Removes an agent by id; false when it was not there.
export async function forgetAgent(file: string, id: string): Promise<boolean> {
  return updateRegistry(file, (agents) => {
    const i = agents.findIndex((a) => a.id === id);
    if (i >= 0) agents.splice(i, 1);
    return i >= 0;
  });
}
