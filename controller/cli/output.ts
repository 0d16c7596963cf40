import type { Writable } from 'node:stream';

// Where a command writes: stdout for results, stderr for progress and messages.
export interface Output {
  out: Writable & { isTTY?: boolean; columns?: number };
  err: Writable & { isTTY?: boolean; columns?: number };
}

export const processOutput = (): Output => ({ out: process.stdout, err: process.stderr });

// Writes one line.
export const line = (w: Writable, text = ''): void => void w.write(`${text}\n`);

// Formats rows as an aligned text table.
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

// Human size: 1.5 GiB, 512.0 MiB.
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
