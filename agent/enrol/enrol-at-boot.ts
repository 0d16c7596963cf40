import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { EnrolReply, isENOENT, type EnrolRequest } from '../protocol/index.js';

// The record of a done enrolment in the state directory: a restarted agent does not enrol again (its token is
// spent; the controller would refuse it).
export const ENROLLED_FILE = 'enrolled.json';

// What enrolment needs; `post` is injected (fetch in production, a stub in tests).
export interface EnrolDeps {
  url: string;
  request: EnrolRequest;
  stateDir: string;
  log: Logger;
  post?: (url: string, body: string, signal: AbortSignal) => Promise<{ status: number; text: string }>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

// How an enrolment ended.
export type EnrolOutcome = 'enrolled' | 'already-enrolled' | 'refused' | 'stopped';

// Retry pace for a controller that cannot be reached (or answers 5xx): 1 s doubling to 60 s, for ever; a refusal
// (4xx: spent, expired or unknown token) is final and logged as an error the operator can act on.
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

async function fetchPost(url: string, body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal, redirect: 'error' });
  return { status: res.status, text: (await res.text()).slice(0, 4096) };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

/** Reports the agent to its controller once (never blocking the agent's start); returns how it ended. */
export async function enrolAtBoot(d: EnrolDeps): Promise<EnrolOutcome> {
  const record = join(d.stateDir, ENROLLED_FILE);
  try {
    await readFile(record, 'utf8');
    d.log.info({ record }, 'enrolment: already done');
    return 'already-enrolled';
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
  const post = d.post ?? fetchPost;
  const sleep = d.sleep ?? abortableSleep;
  const signal = d.signal ?? new AbortController().signal;
  const body = JSON.stringify(d.request);
  const where = new URL(d.url).origin; // the token is in the body, never in a logged URL
  for (let delay = FIRST_RETRY_MS; !signal.aborted; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
    let outcome: { status: number; text: string } | Error;
    try {
      outcome = await post(d.url, body, signal);
    } catch (err) {
      outcome = err instanceof Error ? err : new Error(String(err));
    }
    if (!(outcome instanceof Error) && outcome.status === 200) {
      const reply = EnrolReply.safeParse(safeJson(outcome.text));
      if (reply.success) {
        await writeFile(record, `${JSON.stringify({ ...reply.data, controller: where, at: new Date().toISOString() })}\n`, { mode: 0o600 });
        d.log.info({ controller: where, address: reply.data.address }, 'enrolment: the controller recorded this agent');
        return 'enrolled';
      }
      outcome = new Error(`the controller's answer is not an enrolment reply: ${outcome.text.slice(0, 200)}`);
    }
    if (!(outcome instanceof Error) && outcome.status >= 400 && outcome.status < 500) {
      d.log.error({ controller: where, status: outcome.status, answer: outcome.text.slice(0, 300) }, 'enrolment refused (token spent, expired or unknown): run `xepa rescue add` again or inject over SSH');
      return 'refused';
    }
    const why = outcome instanceof Error ? outcome.message : `HTTP ${outcome.status}`;
    d.log.warn({ controller: where, why, retryInMs: delay }, 'enrolment: controller not reached, retrying');
    await sleep(delay, signal);
  }
  return 'stopped';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
