import { join } from 'node:path';
import { generateControllerKeys } from '../../controller/auth/index.js';
import { startLocalAgent, type LocalAgent } from '../../controller/demo/local-agent.js';
import { requireBundle } from './paths.js';

// The agent bundle for an integration test file: a controller key pair made in `keyDir` (the agent trusts its
// public key), state in <work>/agent, TCG, and ISO URLs on loopback allowed (the tests serve their ISOs there)
// unless `allowLocalIsoUrls` is false.
export async function startTestAgent(work: string, keyDir: string, o: { allowLocalIsoUrls?: boolean } = {}): Promise<LocalAgent> {
  const keys = await generateControllerKeys(keyDir);
  const extraArgs = ['--accel', 'tcg', ...(o.allowLocalIsoUrls === false ? [] : ['--allow-local-iso-urls'])];
  return startLocalAgent({ bundle: requireBundle(), stateDir: join(work, 'agent'), trustedKeyFile: keys.publicKeyPath, extraArgs });
}
