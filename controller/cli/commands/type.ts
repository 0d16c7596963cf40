import { XepaError, chordsOf } from '../../../agent/protocol/index.js';
import { DEFAULT_TYPE_PACE_MS, openQmpSession, typeText, unescapeTypeText } from '../../console/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { STREAM_OPTIONS, streamContextFor } from './console.js';

// The verb's help text.
export const TYPE_USAGE = `usage: xepa type HOST TEXT [--enter] [--pace MS] [--job ID] [--fingerprint FP] [--key-dir DIR] [--json]
Types TEXT into the VM's keyboard (US layout: letters, digits, shift for capitals and symbols) over one QMP
session, one send-key per character, each answered before the next. In TEXT, \\n is Enter, \\t Tab, \\\\ a
backslash; --enter presses Enter after it. --pace MS: least time between characters (default ${DEFAULT_TYPE_PACE_MS}; raise it for
slow boot menus). Characters a US keyboard cannot type are refused before anything is typed.`;

// `xepa type`: a string into the guest's keyboard.
export async function typeCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, { ...STREAM_OPTIONS, pace: { type: 'string' }, enter: { type: 'boolean', default: false } });
  if (values.help) return line(o.out, TYPE_USAGE), 0;
  const [host, raw, extra] = positionals;
  if (!host || raw === undefined || extra !== undefined) return line(o.err, TYPE_USAGE), 2;
  const text = unescapeTypeText(raw) + (values.enter ? '\n' : '');
  if (text === '') throw new XepaError('ERR_BAD_REQUEST', 'nothing to type: TEXT is empty');
  const pace = values.pace === undefined ? undefined : Number(values.pace);
  if (pace !== undefined && (!Number.isInteger(pace) || pace < 0 || pace > 10_000)) throw new XepaError('ERR_BAD_REQUEST', '--pace must be 0..10000 milliseconds');
  chordsOf(text); // untypeable text is refused before any connection is made
  const ctx = await streamContextFor(host, values, o);
  const ws = await ctx.open('qmp', { path: '/v1/qmp', query: { job: values.job }, subprotocols: ['xepa'] });
  const session = await openQmpSession(ws);
  try {
    const r = await typeText(session, text, pace !== undefined ? { paceMs: pace } : {});
    line(o.out, values.json ? JSON.stringify(r) : `typed ${r.chords} character(s), ${r.keys} key(s), in ${(r.ms / 1000).toFixed(2)} s`);
  } finally {
    session.close();
  }
  return 0;
}
