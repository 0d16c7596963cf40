import RFB from '@novnc/novnc';

/** The guest screen in the page. */
export interface Screen {
  stop(): void;
}

// The browser socket URL of a console stream on this page's own origin (ws: or wss: as the page).
export const streamUrl = (path: string, job: string): string =>
  `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}?job=${encodeURIComponent(job)}`;

// Shows the guest screen with noVNC through /ws/vnc, reconnecting after a drop (the VM may not be up yet, or
// may reboot). View-only sessions never send input (and the agent drops it anyway: their token is vnc:view).
export function startScreen(o: { target: HTMLElement; job: string; viewOnly: boolean; status: (text: string) => void }): Screen {
  let rfb: RFB | undefined;
  let stopped = false;
  let retry: number | undefined;

  const connect = (): void => {
    o.status('screen: connecting');
    const r = new RFB(o.target, streamUrl('/ws/vnc', o.job), { wsProtocols: ['binary'], shared: true });
    rfb = r;
    r.viewOnly = o.viewOnly;
    r.scaleViewport = true;
    r.focusOnClick = !o.viewOnly;
    r.background = '#111';
    r.addEventListener('connect', () => {
      o.status('screen: connected');
      if (!o.viewOnly) r.focus();
    });
    r.addEventListener('disconnect', () => {
      rfb = undefined;
      if (stopped) return;
      o.status('screen: disconnected, retrying');
      retry = window.setTimeout(connect, 2000);
    });
  };
  connect();
  return {
    stop: () => {
      stopped = true;
      window.clearTimeout(retry);
      rfb?.disconnect();
    },
  };
}
