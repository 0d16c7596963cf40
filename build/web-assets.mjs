// Builds the web console's browser files (controller/web/browser/) with esbuild: console.js (the page, with
// noVNC bundled in), login.js, console.css. bundle.mjs embeds them in dist/xepa.mjs as XEPA_WEB_ASSETS.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Returns { 'console.js': text, 'login.js': text, 'console.css': text }.
export async function buildWebAssets(root) {
  const dir = join(root, 'controller', 'web', 'browser');
  const bundle = async (entry, format) => {
    const r = await build({
      entryPoints: [join(dir, entry)],
      bundle: true,
      write: false,
      format,
      platform: 'browser',
      target: ['chrome100', 'firefox100', 'safari15'],
      minify: true,
      legalComments: 'eof', // noVNC is MPL-2.0: keep its notices
      logLevel: 'warning',
    });
    return r.outputFiles[0].text;
  };
  return {
    'console.js': await bundle('console-app.ts', 'esm'),
    'login.js': await bundle('login.ts', 'iife'),
    'console.css': await readFile(join(dir, 'console.css'), 'utf8'),
  };
}
