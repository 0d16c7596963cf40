import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root and its bundles (built by `npm test` before vitest runs).
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AGENT_BUNDLE = join(REPO, 'dist', 'xepa-agent.mjs');

// Fails loudly when the bundle was not built: tests never skip silently.
export function requireBundle(): string {
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run \`npm run build\` (npm test does it)`);
  return AGENT_BUNDLE;
}
