import { XepaError } from '../../../agent/protocol/index.js';
import { QMP_PIPE_WINDOW, pipeQmp, runQmpCommand, startPortForward } from '../../console/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { parseListenAddress } from '../listen-address.js';
import { STREAM_OPTIONS, streamContextFor, untilInterrupted } from './console.js';

// The verb's help text.
export const QMP_USAGE = `usage: xepa qmp HOST COMMAND [JSON-ARGUMENTS]     run one QMP command, print its return as JSON
       xepa qmp HOST --listen PATH|PORT|HOST:PORT [--bind ADDR]  serve the agent's QMP locally (qmp-shell, socat)
       xepa qmp HOST                                   QMP on stdin/stdout: one JSON command per line, at most
                                                       ${QMP_PIPE_WINDOW} waiting for their reply at once (a pipe waits, never
                                                       drops); exits 1 if any command failed or went unanswered
  [--job ID] [--fingerprint FP] [--key-dir DIR]
--listen takes a TCP port (on 127.0.0.1, or --bind ADDR), HOST:PORT ([::1]:PORT for IPv6), or a unix socket path
with a slash (/tmp/qmp.sock, ./qmp.sock); anything else is refused.
The agent allows: query-status, query-block, system_powerdown, system_reset, quit, eject, blockdev-change-medium,
screendump, send-key, input-send-event, stop, cont and a few queries; other commands get a GenericError.`;

// `xepa qmp`: one command, a local forward (unix socket path, TCP port or HOST:PORT), or stdin/stdout.
export async function qmpCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, { ...STREAM_OPTIONS, listen: { type: 'string' }, bind: { type: 'string' } });
  if (values.help) return line(o.out, QMP_USAGE), 0;
  const [host, command, rawArgs] = positionals;
  if (!host) return line(o.err, QMP_USAGE), 2;
  // Refused before any connection is made.
  const listen = values.listen !== undefined ? parseListenAddress(values.listen, values.bind) : undefined;
  let args: Record<string, unknown> | undefined;
  if (rawArgs !== undefined) {
    try {
      args = JSON.parse(rawArgs) as Record<string, unknown>;
    } catch {
      throw new XepaError('ERR_BAD_REQUEST', `JSON-ARGUMENTS is not JSON: ${rawArgs}`);
    }
  }
  const ctx = await streamContextFor(host, values, o);
  const open = () => ctx.open('qmp', { path: '/v1/qmp', query: { job: values.job }, subprotocols: ['xepa'] });
  if (command) {
    const ws = await open();
    try {
      line(o.out, JSON.stringify(await runQmpCommand(ws, command, args)));
    } finally {
      ws.close();
    }
    return 0;
  }
  if (listen) {
    const tcp = !('path' in listen);
    const forward = await startPortForward({
      listen,
      open,
      onEvent: (e) => e.kind === 'error' && line(o.err, `client ${e.remote}: ${e.error.message}`),
    });
    line(o.out, `QMP of ${ctx.agentId} on ${forward.address}  (e.g. ${tcp ? `socat - TCP:${forward.address}` : `socat - UNIX-CONNECT:${forward.address}`}; qmp-shell ${forward.address})  Ctrl-C to stop`);
    await untilInterrupted();
    await forward.close();
    return 0;
  }
  const ws = await open();
  const r = await pipeQmp(process.stdin, process.stdout, ws);
  if (r.errors === 0 && !r.cutShort) return 0;
  const unanswered = r.sent - r.replies;
  line(o.err, `xepa qmp: ${r.errors} of ${r.sent} commands failed${r.cutShort ? `; the QMP stream closed with ${unanswered} unanswered (the VM or the agent went away)` : ''}`);
  return 1;
}

