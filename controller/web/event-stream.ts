import type { IncomingMessage, ServerResponse } from 'node:http';
import { XepaError, type JobEvent } from '../../agent/protocol/index.js';
import type { ConsoleContext } from './context.js';
import { SECURITY_HEADERS } from './http-reply.js';

// Where a browser resumes: the EventSource's own Last-Event-ID on reconnects, else ?after=SEQ, else 0.
export function resumeAfter(req: IncomingMessage, url: URL): number {
  const raw = req.headers['last-event-id'] ?? url.searchParams.get('after') ?? '0';
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isInteger(n) || n < 0) throw new XepaError('ERR_BAD_REQUEST', `not a sequence number: ${String(raw)}`);
  return n;
}

// One server-sent event. `id` is the job event's seq, which the browser sends back as Last-Event-ID.
export const sseEvent = (e: JobEvent): string => `id: ${e.seq}\nevent: job\ndata: ${JSON.stringify(e)}\n\n`;

// GET /api/events?job=ID: the job's events as server-sent events, resumed from the browser's last seq, then
// `event: end` when the job is over (the page closes its EventSource then, or it would reconnect forever).
// The hub may refuse (ERR_UNAVAILABLE) before anything is written: the caller then answers with that error.
export function streamJobEvents(ctx: ConsoleContext, job: string, after: number, req: IncomingMessage, res: ServerResponse): void {
  let begun = false;
  const begin = (): void => {
    if (begun) return;
    begun = true;
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
  };
  const watch = ctx.hub.watch(job, after, {
    onEvent: (e) => {
      begin();
      res.write(sseEvent(e));
    },
    onEnd: (err) => {
      begin();
      const data = err === undefined ? {} : { code: err instanceof XepaError ? err.code : 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
      res.end(`event: end\ndata: ${JSON.stringify(data)}\n\n`);
    },
  });
  begin();
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  const stop = (): void => {
    clearInterval(keepAlive);
    watch.close();
  };
  res.once('close', stop);
  req.once('close', stop);
}
