// The agent endpoint behind each console stream (DESIGN §5), for one job's VM.
export function agentStreamPath(kind: 'vnc' | 'qmp' | { serial: number }, job: string): string {
  const q = `?job=${encodeURIComponent(job)}`;
  if (kind === 'vnc') return `/v1/vnc${q}`;
  if (kind === 'qmp') return `/v1/qmp${q}`;
  return `/v1/serial/${kind.serial}${q}`;
}
