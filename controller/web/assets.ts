import { createHash } from 'node:crypto';
import { XepaError } from '../../agent/protocol/index.js';

// Set by build/bundle.mjs: the browser files (console.js with noVNC, login.js, console.css) built by esbuild
// and embedded in dist/xepa.mjs as text, so the controller is one file that needs no node_modules beside it.
declare const XEPA_WEB_ASSETS: Record<string, string> | undefined;

/** One file the console serves under /assets/. */
export interface WebAsset {
  type: string;
  body: string;
  etag: string;
}

/** The console's browser files by name (console.js, console.css, login.js). */
export type WebAssets = ReadonlyMap<string, WebAsset>;

// The browser files the console page needs.
export const REQUIRED_ASSETS = ['console.js', 'console.css', 'login.js'] as const;

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

// Builds the asset table from file texts (name -> content).
export function webAssetsFrom(files: Record<string, string>): WebAssets {
  const m = new Map<string, WebAsset>();
  for (const [name, body] of Object.entries(files)) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    m.set(name, { type: TYPES[ext] ?? 'application/octet-stream', body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return m;
}

// The assets embedded by the bundler. ERR_CONFIG when running from source without a build (the browser code
// is TypeScript plus noVNC modules; `npm run build` turns them into the embedded files).
export function embeddedWebAssets(): WebAssets {
  if (typeof XEPA_WEB_ASSETS !== 'object' || XEPA_WEB_ASSETS === null) {
    throw new XepaError('ERR_CONFIG', 'the web console is only in the built controller: run `npm run build` and use dist/xepa.mjs');
  }
  const assets = webAssetsFrom(XEPA_WEB_ASSETS);
  const missing = REQUIRED_ASSETS.filter((n) => !assets.has(n));
  if (missing.length) throw new XepaError('ERR_CONFIG', `the built controller lacks web assets: ${missing.join(', ')}`);
  return assets;
}
