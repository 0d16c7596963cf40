import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { redactUrlsDeep, redactUrlsIn } from './protocol/index.js';

// The agent's one pino logger (STYLE: created once in main.ts, JSON to stdout). Tokens and authorization headers
// are redacted by path; every URL in any field, error (message, stack, cause, own fields) or message is shown
// through redactUrl, so a signed or password-bearing ISO URL cannot reach the log whichever module logs it.
export function createAgentLog(level: Level | 'silent', dest?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'xepa-agent' },
    redact: ['req.headers.authorization', '*.token'],
    serializers: { err: (e: Error) => redactUrlsDeep(pino.stdSerializers.err(e)) },
    formatters: { log: (fields) => redactUrlsDeep(fields) },
    hooks: {
      logMethod(args, method) {
        // The message and printf arguments; a lone Error is copied redacted (pino takes `msg` from its message).
        const clean = args.map((a) => (typeof a === 'string' ? redactUrlsIn(a) : a instanceof Error ? redactUrlsDeep(a) : a)) as Parameters<typeof method>;
        method.apply(this, clean);
      },
    },
  };
  return dest ? pino(options, dest) : pino(options);
}
