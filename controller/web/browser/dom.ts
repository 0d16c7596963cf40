// The slice of the browser's DOM the console page uses, typed here instead of through lib.dom: the project's
// tsconfig is Node's, and adding lib.dom to the whole program changes Node types in other modules (Buffer,
// streams). Each browser module takes what it needs from `browser`.

/** A DOM element, as far as the console page touches it. */
export interface El {
  id: string;
  className: string;
  textContent: string | null;
  value: string | number;
  disabled: boolean;
  dataset: Record<string, string | undefined>;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  append(...nodes: (El | string)[]): void;
  addEventListener(type: string, fn: (ev: DomEvent) => void): void;
  querySelectorAll(selector: string): Iterable<El>;
  submit(): void;
}

/** An event handed to a listener. */
export interface DomEvent {
  target: El | null;
  data?: unknown;
  preventDefault(): void;
}

/** The browser WebSocket, as the serial log uses it. */
export interface BrowserSocket {
  binaryType: 'blob' | 'arraybuffer';
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  close(): void;
}

/** The browser EventSource. */
export interface BrowserEventSource {
  addEventListener(type: string, fn: (ev: { data: string }) => void): void;
  close(): void;
}

/** The window globals the console page uses. */
export interface BrowserWindow {
  document: {
    body: El;
    getElementById(id: string): El | null;
    createElement(tag: string): El;
  };
  location: { protocol: string; host: string; hash: string; replace(url: string): void; reload(): void };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  WebSocket: new (url: string, protocols?: string[]) => BrowserSocket;
  EventSource: new (url: string) => BrowserEventSource;
  FormData: new (form: El) => { get(name: string): unknown };
  Option: new (text: string, value: string, defaultSelected: boolean, selected: boolean) => El;
  confirm(text: string): boolean;
  fetch: typeof fetch;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number | undefined): void;
}

// The page's globals (only ever evaluated in a browser).
export const browser = globalThis as unknown as BrowserWindow;

// The element with this id; throws when the page lacks it (a bug in pages.ts, not a user error).
export function byId(id: string): El {
  const el = browser.document.getElementById(id);
  if (!el) throw new Error(`the console page has no #${id}`);
  return el;
}
