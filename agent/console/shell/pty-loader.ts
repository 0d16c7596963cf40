import { XepaError } from '../../protocol/index.js';

/** The part of a node-pty terminal the shell endpoint uses. */
export interface PtyProcess {
  readonly pid: number;
  onData(fn: (data: string | Buffer) => void): { dispose(): void };
  onExit(fn: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
  pause(): void;
  resume(): void;
}

/** The part of the node-pty module the shell endpoint uses. */
export interface PtyModule {
  spawn(
    file: string,
    args: string[],
    opts: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string>; encoding: null },
  ): PtyProcess;
}

/** node-pty, or why it cannot be used here. */
export type PtyAvailability = { ok: true; pty: PtyModule } | { ok: false; error: XepaError };

// The package name in a variable: the bundle keeps it external and it may be missing at run time.
const NODE_PTY = 'node-pty';

// Loads node-pty lazily (it is an optional native dependency, external to the bundle): a rescue system without
// it still runs every other endpoint; /v1/shell then answers ERR_UNAVAILABLE saying so.
export async function loadPty(importer: () => Promise<unknown> = () => import(NODE_PTY)): Promise<PtyAvailability> {
  try {
    const mod = (await importer()) as { spawn?: unknown; default?: { spawn?: unknown } };
    const spawn = typeof mod.spawn === 'function' ? mod : mod.default;
    if (typeof spawn?.spawn !== 'function') throw new Error('node-pty has no spawn()');
    return { ok: true, pty: spawn as PtyModule };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      ok: false,
      error: new XepaError('ERR_UNAVAILABLE', `the shell needs node-pty, which cannot be loaded on this agent (${why}): install it next to xepa-agent.mjs (npm install node-pty) to use /v1/shell`, {
        cause: err,
      }),
    };
  }
}
