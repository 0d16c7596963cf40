import type { Page } from 'playwright-core';
import { openAgentStream, readScreenshot } from '../../../controller/console/index.js';

// Pixel checks run inside the page: the images (720x400 RGBA, over a million values) stay there, under a name,
// and only numbers come back to the test.
type Store = Record<string, { width: number; height: number; data: Uint8ClampedArray }>;
declare global {
  interface Window {
    xepaShots?: Store;
  }
}

// Keeps what noVNC's canvas shows now under `name`; its size, or null before the first frame. The canvas keeps
// the guest's framebuffer resolution (scaling is CSS only), so these are the guest's pixels as received.
export function keepCanvas(page: Page, name: string): Promise<{ width: number; height: number } | null> {
  return page.evaluate((n) => {
    const c = document.querySelector('#screen canvas') as HTMLCanvasElement | null;
    if (!c || c.width < 2 || c.height < 2) return null;
    const img = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height);
    (window.xepaShots ??= {})[n] = { width: c.width, height: c.height, data: img.data };
    return { width: c.width, height: c.height };
  }, name);
}

// Distinct colours of a kept image and the share of its pixels that are not the most common colour.
export function contentOf(page: Page, name: string): Promise<{ colours: number; nonBackground: number }> {
  return page.evaluate((n) => {
    const s = window.xepaShots![n]!;
    const counts = new Map<number, number>();
    for (let i = 0; i < s.data.length; i += 4) {
      const k = (s.data[i]! << 16) | (s.data[i + 1]! << 8) | s.data[i + 2]!;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return { colours: counts.size, nonBackground: 1 - Math.max(...counts.values()) / (s.data.length / 4) };
  }, name);
}

// Share of pixels whose colour differs by more than 48 in some channel between two kept images (1 when their
// sizes differ): lossy VNC encodings stay far below 1 %, a moved highlight bar is several %.
export function differingShare(page: Page, a: string, b: string): Promise<number> {
  return page.evaluate(([x, y]) => {
    const p = window.xepaShots![x!]!;
    const q = window.xepaShots![y!]!;
    if (p.width !== q.width || p.height !== q.height) return 1;
    let n = 0;
    for (let i = 0; i < p.data.length; i += 4) {
      if (Math.abs(p.data[i]! - q.data[i]!) > 48 || Math.abs(p.data[i + 1]! - q.data[i + 1]!) > 48 || Math.abs(p.data[i + 2]! - q.data[i + 2]!) > 48) n++;
    }
    return n / (p.data.length / 4);
  }, [a, b] as const);
}

// Keeps the guest's screen as QEMU has it (the agent's /v1/screendump, a PNG the browser decodes) under `name`.
export async function keepGuestScreen(page: Page, name: string, o: { url: string; fingerprint: string; token: string; job: string }): Promise<void> {
  const ws = await openAgentStream({ url: o.url, fingerprint: o.fingerprint, token: o.token, path: '/v1/screendump', query: { job: o.job }, subprotocols: ['xepa'] });
  const { png } = await readScreenshot(ws);
  await page.evaluate(async ([n, b64]) => {
    const bytes = Uint8Array.from(atob(b64!), (ch) => ch.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d') as OffscreenCanvasRenderingContext2D;
    ctx.drawImage(bitmap, 0, 0);
    (window.xepaShots ??= {})[n!] = { width: bitmap.width, height: bitmap.height, data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data };
  }, [name, png.toString('base64')] as const);
}
