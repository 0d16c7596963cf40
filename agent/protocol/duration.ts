// A duration in seconds as a person reads it: 14400 → "4 h", 5400 → "90 min", 90 → "90 s" (deadlines in plans,
// events and errors, on both sides of the wire).
export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}
