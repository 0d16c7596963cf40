// Reads the XEPA-PROBE report the probe variant of the test ISO prints from inside the guest.
import { readFile } from 'node:fs/promises';

// key -> value of every "XEPA-PROBE key=value" line (the last one wins), and whether "XEPA-PROBE end" came.
export async function readProbe(serialLog: string): Promise<{ facts: Record<string, string>; complete: boolean; text: string }> {
  const text = (await readFile(serialLog, 'utf8').catch(() => '')).replaceAll('\r', '');
  const facts: Record<string, string> = {};
  let complete = false;
  for (const line of text.split('\n')) {
    const m = /XEPA-PROBE (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'end') complete = true;
    const eq = m[1]!.indexOf('=');
    if (eq > 0) facts[m[1]!.slice(0, eq)] = m[1]!.slice(eq + 1).trim();
  }
  return { facts, complete, text };
}
