// Human-readable numbers for ISO fetch messages and logs (URLs: redactUrl in agent/protocol).

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// Formats a byte count in KiB/MiB/GiB ("512 KiB", "700.0 MiB", "4.20 GiB") for error messages.
export function formatBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a >= GiB) return `${sign}${(a / GiB).toFixed(2)} GiB`;
  if (a >= MiB) return `${sign}${(a / MiB).toFixed(1)} MiB`;
  if (a >= KiB) return `${sign}${Math.round(a / KiB)} KiB`;
  return `${sign}${a} B`;
}
