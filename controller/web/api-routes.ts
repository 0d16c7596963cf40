import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { XepaError } from '../../agent/protocol/index.js';
import { type ConsoleContext, requireControl, requireSession, trackStream } from './context.js';
import { resumeAfter, streamJobEvents } from './event-stream.js';
import { readJson, replyError, replyJson } from './http-reply.js';
import { qmpCommandOf, type ConsoleAction } from './qmp-actions.js';

const JOB_ID = /^[A-Za-z0-9_.-]{1,64}$/;

// The ?job= of a request, checked.
export function jobParam(url: URL): string {
  const job = url.searchParams.get('job') ?? '';
  if (!JOB_ID.test(job)) throw new XepaError('ERR_BAD_REQUEST', 'give the job as ?job=ID');
  return job;
}

const PowerBody = z.object({ job: z.string().regex(JOB_ID), action: z.enum(['powerdown', 'reset']) }).strict();
const MediaBody = z.union([
  z.object({ job: z.string().regex(JOB_ID), action: z.literal('eject') }).strict(),
  z.object({ job: z.string().regex(JOB_ID), action: z.literal('change'), filename: z.string().min(1).max(4096).regex(/^\//, 'an absolute path on the agent') }).strict(),
]);

async function parseBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const r = schema.safeParse(await readJson(req));
  if (!r.success) throw new XepaError('ERR_BAD_REQUEST', `bad request: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  return r.data;
}

// Serves /api/*: session, jobs, job events (SSE), power and media. Every call needs a session; power and media
// need a control session and a same-origin JSON POST.
export async function serveApi(ctx: ConsoleContext, path: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    ctx.origin.checkFetchSite(req);
    const method = req.method ?? 'GET';
    const route = `${method} ${path}`;
    if (route === 'GET /api/session') {
      const s = requireSession(ctx, req);
      return replyJson(res, 200, { agentId: ctx.agent.agentId, role: s.role, expiresAt: new Date(s.expiresAt).toISOString() });
    }
    if (route === 'GET /api/jobs') {
      requireSession(ctx, req);
      return replyJson(res, 200, await ctx.agent.call('job.list', {}));
    }
    if (route === 'GET /api/events') {
      const s = requireSession(ctx, req);
      const job = jobParam(url);
      const after = resumeAfter(req, url);
      const untrack = trackStream(ctx, s.id, { close: () => res.destroy() });
      res.once('close', untrack);
      return streamJobEvents(ctx, job, after, req, res);
    }
    if (route === 'POST /api/power' || route === 'POST /api/media') {
      ctx.origin.checkOrigin(req);
      requireControl(ctx, req);
      const body: ConsoleAction = path === '/api/power' ? await parseBody(req, PowerBody) : await parseBody(req, MediaBody);
      const { execute, args } = qmpCommandOf(body);
      const result = await ctx.qmp(body.job, execute, args);
      ctx.log?.info({ job: body.job, execute }, 'console action');
      return replyJson(res, 200, { ok: true, execute, result });
    }
    if (['/api/session', '/api/jobs', '/api/events', '/api/power', '/api/media'].includes(path)) {
      return replyJson(res, 405, { code: 'ERR_BAD_REQUEST', message: `${method} is not served on ${path}` });
    }
    throw new XepaError('ERR_NOT_FOUND', `no such endpoint: ${path}`);
  } catch (err) {
    replyError(res, err);
  }
}
