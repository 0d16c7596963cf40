import type { WebRole } from './login-token.js';

// Escapes text for HTML element content and double-quoted attributes.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const head = (title: string, extra = ''): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/assets/console.css">${extra}</head>`;

// The console page: the guest screen (noVNC), job progress, power and media buttons, the serial log.
// Everything dynamic is filled in by console.js from /api/* and the /ws/* streams.
export function consolePage(o: { agentId: string; role: WebRole }): string {
  const view = o.role === 'view';
  return `${head(`XEPA console: ${o.agentId}`, '<script type="module" src="/assets/console.js"></script>')}
<body data-role="${o.role}">
<header>
  <h1>XEPA</h1>
  <span class="agent" title="agent">${escapeHtml(o.agentId)}</span>
  <select id="job-select" aria-label="job"></select>
  <span id="job-state" class="state">no job</span>
  <span class="badge ${view ? 'view' : 'control'}">${view ? 'view only' : 'control'}</span>
  <span id="vnc-status" class="status">screen: connecting</span>
  <form method="post" action="/logout"><button type="submit">Log out</button></form>
</header>
<main>
  <section id="screen-pane" aria-label="guest screen"><div id="screen"></div></section>
  <aside>
    <section id="job-pane">
      <h2>Job</h2>
      <progress id="job-progress" max="1" value="0"></progress>
      <ol id="events" aria-live="polite"></ol>
    </section>
    <section id="power-pane">
      <h2>Power and media</h2>
      <div class="buttons">
        <button type="button" data-power="powerdown"${view ? ' disabled' : ''}>Power off (ACPI)</button>
        <button type="button" data-power="reset"${view ? ' disabled' : ''}>Reset</button>
        <button type="button" data-media="eject"${view ? ' disabled' : ''}>Eject CD</button>
      </div>
      <form id="media-form">
        <input name="filename" placeholder="/run/xepa/isos/&lt;sha256&gt;.iso (a verified ISO of the agent)" aria-label="ISO path on the agent"${view ? ' disabled' : ''}>
        <button type="submit"${view ? ' disabled' : ''}>Change CD</button>
      </form>
      <div id="action-result" role="status"></div>
    </section>
  </aside>
</main>
<section id="serial-pane">
  <h2>Serial <select id="serial-port" aria-label="serial port"><option value="0">ttyS0</option><option value="1">ttyS1 (COM2)</option></select></h2>
  <pre id="serial"></pre>
</section>
</body></html>
`;
}

// The page a login link opens: a form that POSTs the one-time token (login.js submits it at once and takes the
// token out of the address bar). Opening the link does not use the token up; only the POST does, so link
// previewers that fetch URLs cannot burn it.
export function loginPage(o: { token: string; role: WebRole; agentId: string }): string {
  return `${head('XEPA console: log in', '<script src="/assets/login.js" defer></script>')}
<body class="message">
<form id="login" method="post" action="/login">
  <input type="hidden" name="t" value="${escapeHtml(o.token)}">
  <p>Log in to the console of <b>${escapeHtml(o.agentId)}</b> (${o.role === 'view' ? 'view only' : 'control'}).</p>
  <button type="submit">Open the console</button>
</form>
</body></html>
`;
}

// A page that only says something (refused login, not logged in).
export function messagePage(title: string, text: string): string {
  return `${head(title)}
<body class="message"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>
`;
}
