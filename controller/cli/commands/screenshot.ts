import { writeFile } from 'node:fs/promises';
import { readScreenshot } from '../../console/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { STREAM_OPTIONS, streamContextFor } from './console.js';

// The verb's help text.
export const SCREENSHOT_USAGE = `usage: xepa screenshot HOST -o FILE.png [--job ID] [--fingerprint FP] [--key-dir DIR] [--json]
Saves the installer's screen as PNG (QMP screendump on the agent, sent back as PNG; a vnc:view token suffices).`;

// `xepa screenshot`: the guest screen to a PNG file.
export async function screenshotCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, { ...STREAM_OPTIONS, output: { type: 'string', short: 'o' } });
  if (values.help) return line(o.out, SCREENSHOT_USAGE), 0;
  const host = positionals[0];
  if (!host || !values.output) return line(o.err, SCREENSHOT_USAGE), 2;
  const ctx = await streamContextFor(host, values, o);
  const ws = await ctx.open('vnc:view', { path: '/v1/screendump', query: { job: values.job }, subprotocols: ['xepa'] });
  const shot = await readScreenshot(ws);
  await writeFile(values.output, shot.png);
  const summary = { file: values.output, width: shot.width, height: shot.height, bytes: shot.png.length };
  line(o.out, values.json ? JSON.stringify(summary) : `${values.output}: ${shot.width}x${shot.height} PNG, ${shot.png.length} bytes`);
  return 0;
}
