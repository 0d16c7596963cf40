import { createAnsiStripper, tidyLog } from './ansi.js';
import { streamUrl } from './screen.js';

// Characters kept in the log; older output scrolls away (the agent's scrollback already gave the start).
const MAX_CHARS = 256 * 1024;

/** The serial log of one port. */
export interface SerialLog {
  stop(): void;
}

// Shows a serial port's output (scrollback first, then live) as plain text, reconnecting after a drop.
export function startSerialLog(o: { pre: HTMLElement; job: string; port: number }): SerialLog {
  let ws: WebSocket | undefined;
  let stopped = false;
  let retry: number | undefined;
  o.pre.textContent = '';

  const connect = (): void => {
    const decoder = new TextDecoder('utf-8');
    const strip = createAnsiStripper();
    let first = true;
    const s = new WebSocket(streamUrl(`/ws/serial/${o.port}`, o.job), ['binary']);
    ws = s;
    s.binaryType = 'arraybuffer';
    s.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      if (first) {
        o.pre.textContent = ''; // a reconnect replays the scrollback: start over instead of doubling it
        first = false;
      }
      const text = strip.push(typeof ev.data === 'string' ? ev.data : decoder.decode(ev.data, { stream: true }));
      if (!text) return;
      const atBottom = o.pre.scrollTop + o.pre.clientHeight >= o.pre.scrollHeight - 4;
      const all = tidyLog((o.pre.textContent ?? '') + text);
      o.pre.textContent = all.length > MAX_CHARS ? all.slice(all.length - MAX_CHARS) : all;
      if (atBottom) o.pre.scrollTop = o.pre.scrollHeight;
    };
    s.onclose = () => {
      if (stopped) return;
      retry = window.setTimeout(connect, 3000);
    };
  };
  connect();
  return {
    stop: () => {
      stopped = true;
      window.clearTimeout(retry);
      ws?.close();
    },
  };
}
