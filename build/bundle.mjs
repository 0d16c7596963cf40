// Bundles the agent into ONE file (dist/xepa-agent.mjs) that runs with plain `node` and nothing beside it,
// and the controller CLI (dist/xepa.mjs) and bench runner (dist/xepa-bench.mjs) the same way.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { statSync } from 'node:fs';
import { buildWebAssets } from './web-assets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(await (await import('node:fs/promises')).readFile(join(root, 'package.json'), 'utf8')).version;

// CJS dependencies (pino, systeminformation) call require() for Node built-ins; give the ESM bundle one.
const banner = "import { createRequire as __xepaCreateRequire } from 'node:module'; const require = __xepaCreateRequire(import.meta.url);";

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: banner },
  // Optional native helpers: loaded in try/catch by their users, absent at runtime is fine. better-sqlite3 is the
  // store's native SQLite (loaded from node_modules when the store opens); pg-native is pg's optional libpq binding,
  // never used (pg speaks the protocol in JavaScript).
  external: ['bufferutil', 'utf-8-validate', 'node-pty', 'playwright-core', 'ssh2', 'cpu-features', 'better-sqlite3', 'pg-native'],
  define: { XEPA_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
};

// The web console's browser files (noVNC included), embedded in the controller bundle (controller/web/assets.ts).
const webAssets = await buildWebAssets(root);

const outputs = [
  { entry: 'agent/main.ts', out: 'dist/xepa-agent.mjs' },
  { entry: 'controller/cli/main.ts', out: 'dist/xepa.mjs', define: { XEPA_WEB_ASSETS: JSON.stringify(webAssets) } },
  { entry: 'bench/run.ts', out: 'dist/xepa-bench.mjs' },
];

for (const o of outputs) {
  try {
    statSync(join(root, o.entry));
  } catch {
    continue; // not written yet
  }
  await build({ ...common, define: { ...common.define, ...o.define }, entryPoints: [join(root, o.entry)], outfile: join(root, o.out) });
  console.log(`built ${o.out} (${(statSync(join(root, o.out)).size / 1024).toFixed(0)} KiB)`);
}
