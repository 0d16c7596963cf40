import { XepaError } from '../../../agent/protocol/index.js';
import { attachTerminal, openWhenRunning } from '../../console/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { STREAM_OPTIONS, streamContextFor } from './console.js';

// How long --wait waits for a job's VM to start (an ISO of several GiB may take that long to fetch).
const WAIT_SECONDS = 1800;
// The verb's help text.
export const SERIAL_USAGE = `usage: xepa serial HOST [N] [--job ID] [--wait] [--fingerprint FP] [--key-dir DIR]
Attaches this terminal to serial port N of the installer (0 = COM1, the default; 1 = COM2), starting with the
output it printed before you came. Ctrl-] detaches. Not a terminal? Output goes to stdout, stdin is sent.
--wait: a job whose VM has not started yet (its ISO is still fetching, right after install --detach) is waited
for, up to ${WAIT_SECONDS / 60} minutes; without it such a job is refused at once. When the VM ends, the reason is printed.`;

// `xepa serial`: the terminal on a serial port (raw mode on a TTY, Ctrl-] to detach).
export async function serialCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, { ...STREAM_OPTIONS, wait: { type: 'boolean' } });
  if (values.help) return line(o.out, SERIAL_USAGE), 0;
  const [host, n = '0'] = positionals;
  if (!host) return line(o.err, SERIAL_USAGE), 2;
  if (n !== '0' && n !== '1') throw new XepaError('ERR_BAD_REQUEST', `serial port must be 0 or 1, got ${n}`);
  const ctx = await streamContextFor(host, values, o);
  const open = () => ctx.open('serial', { path: `/v1/serial/${n}`, query: { job: values.job }, subprotocols: ['binary'] });
  const ws = !values.wait
    ? await open()
    : await openWhenRunning(open, values.job !== undefined, {
        timeoutMs: WAIT_SECONDS * 1000,
        onWaiting: (why) => line(o.err, `waiting up to ${WAIT_SECONDS / 60} min for the VM (${why})`),
      });
  const tty = process.stdin.isTTY === true;
  if (tty) line(o.err, `attached to serial ${n} of ${ctx.agentId}: Ctrl-] detaches`);
  const end = await attachTerminal(ws, { input: process.stdin, output: o.out }, tty ? undefined : null);
  if (end.reason === 'detached') line(o.err, '\r\ndetached');
  else if (end.code !== 1000) line(o.err, `\r\nserial ${n} closed by the agent: ${end.code} ${end.text}`);
  else line(o.err, `\r\nserial ${n} closed${end.text ? `: ${end.text}` : ''}`); // "the VM ended", never a silent exit
  return end.reason === 'closed' && end.code !== 1000 ? 1 : 0;
}
