import type { XepaError } from '../protocol/index.js';
import { cancelledError, idleTimeoutError } from './fetch-errors.js';

// Anything an attempt may have to tear down: the request and the response stream.
interface Destroyable {
  destroy(err?: Error): unknown;
  on?(event: 'error', fn: (err: Error) => void): unknown;
}

const ignore = (): void => {};

// One HTTP attempt's lifetime: an idle watchdog (armed from the start, reset on every byte) and the caller's
// AbortSignal, both of which destroy the tracked streams with a XepaError the fetch loop then inspects.
export class AttemptControl {
  #streams = new Set<Destroyable>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reason: XepaError | undefined;
  readonly #onAbort: () => void;

  constructor(
    private readonly url: URL,
    private readonly idleMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.#onAbort = () => this.abort(cancelledError(this.url));
    if (signal?.aborted) this.#onAbort();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.touch();
  }

  // Why the attempt was stopped (idle timeout or cancellation), if it was.
  get reason(): XepaError | undefined {
    return this.#reason;
  }

  // Data arrived: re-arm the idle watchdog.
  touch(): void {
    if (this.#reason) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.abort(idleTimeoutError(this.url, this.idleMs)), this.idleMs);
  }

  // Tracks a request or response so a timeout or cancel destroys it (at once if already stopped).
  track(stream: Destroyable): void {
    // A destroyed stream nobody iterates would otherwise crash the process with an unhandled 'error'.
    stream.on?.('error', ignore);
    if (this.#reason) stream.destroy(this.#reason);
    else this.#streams.add(stream);
  }

  // Stops the attempt with this reason; the first reason wins.
  abort(reason: XepaError): void {
    if (this.#reason) return;
    this.#reason = reason;
    if (this.#timer) clearTimeout(this.#timer);
    for (const s of this.#streams) s.destroy(reason);
  }

  // Ends the attempt: timer cleared, signal listener removed, sockets released.
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.signal?.removeEventListener('abort', this.#onAbort);
    for (const s of this.#streams) s.destroy();
    this.#streams.clear();
  }
}
