import type { Page } from 'playwright-core';
import { dialAgentStream } from '../../../controller/web/index.js';

/** What the page's noVNC canvas shows, summarised for assertions. */
export interface CanvasShot {
  width: number;
  height: number;
  rgba: number[]; // width * height * 4
}

// Reads the pixels noVNC drew: its canvas keeps the guest's framebuffer resolution (scaling is CSS only).
export function readCanvas(page: Page): Promise<CanvasShot | null> {
  return page.evaluate(() => {
    const c = document.querySelector('#screen canvas') as HTMLCanvasElement | null;
    if (!c || c.width < 2 || c.height < 2) return null;
    const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    return { width: c.width, height: c.height, rgba: Array.from(d) };
  });
}

// Distinct colours and the share of pixels that are not the most common colour (0 for a blank screen).
export function contentOf(s: CanvasShot): { colours: number; nonBackground: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.rgba.length; i += 4) {
    const k = (s.rgba[i]! << 16) | (s.rgba[i + 1]! << 8) | s.rgba[i + 2]!;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const most = Math.max(...counts.values());
  return { colours: counts.size, nonBackground: 1 - most / (s.rgba.length / 4) };
}

// Share of pixels whose colour differs by more than `tolerance` in some channel (lossy encodings stay under).
export function differingShare(a: { rgba: ArrayLike<number> }, b: { rgba: ArrayLike<number> }, tolerance = 48): number {
  if (a.rgba.length !== b.rgba.length) return 1;
  let n = 0;
  for (let i = 0; i < a.rgba.length; i += 4) {
    if (Math.abs(a.rgba[i]! - b.rgba[i]!) > tolerance || Math.abs(a.rgba[i + 1]! - b.rgba[i + 1]!) > tolerance || Math.abs(a.rgba[i + 2]! - b.rgba[i + 2]!) > tolerance) n++;
  }
  return n / (a.rgba.length / 4);
}

// The guest's screen as QEMU has it (the agent's /v1/screendump, PNG), decoded to RGBA by the browser.
export async function guestScreen(page: Page, o: { url: string; fingerprint: string; token: string; job: string }): Promise<CanvasShot> {
  const ws = await dialAgentStream({ url: o.url, fingerprint: o.fingerprint, token: o.token, path: `/v1/screendump?job=${o.job}`, subprotocols: ['xepa'] });
  const png = await new Promise<Buffer>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) resolve(data);
      else if (/"error"/.test(String(data))) reject(new Error(`screendump failed: ${String(data)}`));
    });
    ws.once('close', () => reject(new Error('screendump: closed without a PNG')));
    ws.resume();
  });
  return page.evaluate(async (b64: string) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d') as OffscreenCanvasRenderingContext2D;
    ctx.drawImage(bitmap, 0, 0);
    return { width: bitmap.width, height: bitmap.height, rgba: Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data) };
  }, png.toString('base64'));
}
