import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { chordsOf } from '../../../agent/protocol/index.js';
import { gapAfter, openQmpSession, typeText, unescapeTypeText, type QmpStreamSession } from '../../../controller/console/index.js';
import { codeOf, codeOfAsync } from '../../support/error-code.js';

describe('text to US-keyboard chords', () => {
  it('maps letters, capitals with shift, digits, symbols and newline to QKeyCode chords', () => {
    expect(chordsOf('aZ9 !\n')).toEqual([['a'], ['shift', 'z'], ['9'], ['spc'], ['shift', '1'], ['ret']]);
    expect(chordsOf('a-b_c:/"|~\t')).toEqual([
      ['a'], ['minus'], ['b'], ['shift', 'minus'], ['c'], ['shift', 'semicolon'], ['slash'], ['shift', 'apostrophe'], ['shift', 'backslash'], ['shift', 'grave_accent'], ['tab'],
    ]);
  });

  it('refuses the whole text naming the first untypeable character and where it is', () => {
    expect(codeOf(() => chordsOf('abcé'))).toBe('ERR_BAD_REQUEST');
    expect(() => chordsOf('ab€d')).toThrow('cannot type "€" (character 3 of the text)');
  });

  it('reads \\n, \\t and \\\\ in the CLI argument and refuses other escapes', () => {
    expect(unescapeTypeText('root\\npass\\tword\\\\x')).toBe('root\npass\tword\\x');
    expect(codeOf(() => unescapeTypeText('a\\e'))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => unescapeTypeText('trailing\\'))).toBe('ERR_BAD_REQUEST');
  });
});

// A session that records what it was asked, answering (or refusing) each command as the test says.
function recordingSession(refuseAt = -1): QmpStreamSession & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    execute: async (command, args) => {
      calls.push({ command, args });
      if (calls.length - 1 === refuseAt) throw Object.assign(new (await import('../../../agent/protocol/index.js')).XepaError('ERR_QMP_COMMAND', 'QMP send-key failed: GenericError: nope'));
      return {};
    },
    close: () => undefined,
  };
}

describe('typeText', () => {
  it('sends one send-key per character with its hold-time, and waits for each chord to play before the next', async () => {
    const s = recordingSession();
    const slept: number[] = [];
    const r = await typeText(s, 'Hi\n', { sleep: async (ms) => void slept.push(ms) });
    expect(s.calls).toEqual([
      { command: 'send-key', args: { keys: [{ type: 'qcode', data: 'shift' }, { type: 'qcode', data: 'h' }], 'hold-time': 10 } },
      { command: 'send-key', args: { keys: [{ type: 'qcode', data: 'i' }], 'hold-time': 10 } },
      { command: 'send-key', args: { keys: [{ type: 'qcode', data: 'ret' }], 'hold-time': 10 } },
    ]);
    expect(slept).toEqual([40, 30]); // after the last chord nothing waits
    expect([r.chords, r.keys]).toEqual([3, 4]);
  });

  it('paces by --pace, never below what QEMU takes to play the chord (a delay after each press and release)', () => {
    expect(gapAfter(['a'])).toBe(30);
    expect(gapAfter(['shift', 'a'], { paceMs: 0 })).toBe(40);
    expect(gapAfter(['a'], { paceMs: 200 })).toBe(200);
    expect(gapAfter(['shift', 'a'], { paceMs: 0, holdMs: 50 })).toBe(200);
  });

  it('sends nothing for untypeable text', async () => {
    const s = recordingSession();
    expect(await codeOfAsync(typeText(s, 'ok ü', { sleep: async () => undefined }))).toBe('ERR_BAD_REQUEST');
    expect(s.calls).toEqual([]);
  });

  it('stops at a refused chord and says how far it got', async () => {
    const s = recordingSession(2);
    const err = (await typeText(s, 'abcdef', { sleep: async () => undefined }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/GenericError: nope \(after 2 of 6 characters were typed\)/);
    expect(s.calls).toHaveLength(3);
  });
});

// A /v1/qmp stream stand-in that greets and answers like the agent: qmp_capabilities, then each command by id.
class ScriptedQmp extends EventEmitter {
  sent: Record<string, unknown>[] = [];
  constructor(private readonly answer: (cmd: Record<string, unknown>) => Record<string, unknown> | undefined) {
    super();
  }
  resume(): void {
    queueMicrotask(() => this.emit('message', Buffer.from(JSON.stringify({ QMP: { version: {}, capabilities: [] } }))));
  }
  send(text: string): void {
    const cmd = JSON.parse(text) as Record<string, unknown>;
    this.sent.push(cmd);
    const reply = this.answer(cmd);
    if (reply) queueMicrotask(() => this.emit('message', Buffer.from(JSON.stringify({ ...reply, id: cmd.id }))));
  }
  close(): void {
    this.emit('close', 1000, Buffer.from(''));
  }
}

describe('openQmpSession', () => {
  it('negotiates once and then matches each reply to its command by id, skipping events', async () => {
    const ws = new ScriptedQmp((cmd) => (cmd.execute === 'query-status' ? { return: { running: true } } : { return: {} }));
    const session = await openQmpSession(ws as unknown as WebSocket);
    ws.emit('message', Buffer.from(JSON.stringify({ event: 'RESET' })));
    expect(await Promise.all([session.execute('query-status'), session.execute('send-key', { keys: [] })])).toEqual([{ running: true }, {}]);
    expect(ws.sent.map((c) => c.execute)).toEqual(['qmp_capabilities', 'query-status', 'send-key']);
    expect(new Set(ws.sent.map((c) => c.id)).size).toBe(3);
  });

  it('rejects a refused command with ERR_QMP_COMMAND and pending ones with ERR_QMP_DISCONNECTED when the stream closes', async () => {
    const ws = new ScriptedQmp((cmd) => (cmd.execute === 'quit' ? undefined : cmd.execute === 'human-monitor-command' ? { error: { class: 'GenericError', desc: 'XEPA ERR_FORBIDDEN' } } : { return: {} }));
    const session = await openQmpSession(ws as unknown as WebSocket);
    expect(await codeOfAsync(session.execute('human-monitor-command'))).toBe('ERR_QMP_COMMAND');
    const hanging = codeOfAsync(session.execute('quit'));
    ws.close();
    expect(await hanging).toBe('ERR_QMP_DISCONNECTED');
    expect(await codeOfAsync(session.execute('query-status'))).toBe('ERR_QMP_DISCONNECTED');
  });

  it('fails to open without a QMP greeting', async () => {
    const ws = new ScriptedQmp(() => ({ return: {} }));
    ws.resume = () => queueMicrotask(() => ws.emit('message', Buffer.from('{"hello":1}')));
    expect(await codeOfAsync(openQmpSession(ws as unknown as WebSocket))).toBe('ERR_QMP_PROTOCOL');
  });
});
