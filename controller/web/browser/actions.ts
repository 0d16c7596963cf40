// Wires the power and media buttons to POST /api/power and /api/media (JSON, same origin, control sessions).
export function wireActions(o: { job: string; root: HTMLElement; form: HTMLFormElement; result: HTMLElement }): void {
  const post = async (path: string, body: Record<string, string>, label: string): Promise<void> => {
    o.result.textContent = `${label}…`;
    try {
      const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ job: o.job, ...body }) });
      const reply = (await res.json()) as { ok?: boolean; code?: string; message?: string };
      o.result.textContent = res.ok ? `${label}: done` : `${label}: ${reply.code ?? res.status}: ${reply.message ?? ''}`;
    } catch (err) {
      o.result.textContent = `${label}: ${String(err)}`;
    }
  };
  for (const b of o.root.querySelectorAll<HTMLButtonElement>('button[data-power]')) {
    b.addEventListener('click', () => {
      const action = b.dataset.power ?? '';
      if (action === 'reset' && !confirm('Reset the VM now? (like pressing its reset button)')) return;
      void post('/api/power', { action }, b.textContent ?? action);
    });
  }
  for (const b of o.root.querySelectorAll<HTMLButtonElement>('button[data-media]')) {
    b.addEventListener('click', () => void post('/api/media', { action: b.dataset.media ?? '' }, b.textContent ?? 'media'));
  }
  o.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const filename = String(new FormData(o.form).get('filename') ?? '').trim();
    if (filename) void post('/api/media', { action: 'change', filename }, `Change CD to ${filename}`);
  });
}
