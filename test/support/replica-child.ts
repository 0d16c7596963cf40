import { runReplicaFromEnv } from './replica-process.js';

// Entry of a replica process started with vite-node by test/integration/plane/replica-takeover.test.ts.
await runReplicaFromEnv();
