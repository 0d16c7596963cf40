// Where `xepa console HOST` (without --vnc-port) sends the user: the web console of a running `xepa serve`,
// given as --web-url or XEPA_WEB_URL (its base URL, e.g. https://controller.example:8443).
export function webConsoleBase(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = flag ?? env.XEPA_WEB_URL;
  if (!base) return undefined;
  return base.replace(/\/+$/, '');
}

// What to tell a user who has no web console configured: the native-viewer way.
export function nativeConsoleHint(host: string): string {
  return [
    'no web console configured (start one with `xepa serve`, then pass its URL with --web-url or XEPA_WEB_URL).',
    'For a native VNC viewer (TigerVNC, Remmina, vncviewer), forward a local port:',
    `  xepa console ${host} --vnc-port 5901      then: vncviewer 127.0.0.1::5901`,
  ].join('\n');
}
