import { describe, expect, it } from 'vitest';
import { QmpFramer, encodeQmpMessage } from '../../../agent/qmp/index.js';
import { codeOf } from '../../support/error-code.js';


describe('QmpFramer', () => {
  it('returns one object per CRLF-terminated line', () => {
    const f = new QmpFramer();
    expect(f.feed('{"return": {}, "id": "a"}\r\n{"event": "STOP"}\r\n')).toEqual([{ return: {}, id: 'a' }, { event: 'STOP' }]);
  });

  it('reassembles an object split across chunks, even inside a multi-byte character', () => {
    const f = new QmpFramer();
    const bytes = Buffer.from('{"return": "h\u00e9llo"}\r\n');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    expect(f.feed(bytes.subarray(0, cut))).toEqual([]);
    expect(f.bufferedBytes).toBe(cut);
    expect(f.feed(bytes.subarray(cut))).toEqual([{ return: 'h\u00e9llo' }]);
    expect(f.bufferedBytes).toBe(0);
  });

  it('accepts bare LF and skips blank lines', () => {
    const f = new QmpFramer();
    expect(f.feed('\r\n\n{"a":1}\n  \r\n{"b":2}\n')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('rejects a line that is not JSON with ERR_QMP_PROTOCOL', () => {
    expect(codeOf(() => new QmpFramer().feed('garbage\r\n'))).toBe('ERR_QMP_PROTOCOL');
  });

  it('rejects JSON that is not an object with ERR_QMP_PROTOCOL', () => {
    expect(codeOf(() => new QmpFramer().feed('[1,2]\r\n'))).toBe('ERR_QMP_PROTOCOL');
    expect(codeOf(() => new QmpFramer().feed('null\r\n'))).toBe('ERR_QMP_PROTOCOL');
    expect(codeOf(() => new QmpFramer().feed('42\r\n'))).toBe('ERR_QMP_PROTOCOL');
  });

  it('rejects a line longer than the limit even before its newline arrives', () => {
    const f = new QmpFramer({ maxLineBytes: 16 });
    expect(f.feed('{"a":')).toEqual([]);
    expect(codeOf(() => f.feed('"0123456789abcdef"'))).toBe('ERR_QMP_PROTOCOL');
  });

  it('accepts a line exactly at the limit, which counts every byte before the LF', () => {
    const line = '{"a":"0123456"}\r'; // 16 bytes
    expect(new QmpFramer({ maxLineBytes: line.length }).feed(`${line}\n`)).toEqual([{ a: '0123456' }]);
    expect(() => new QmpFramer({ maxLineBytes: line.length - 1 }).feed(`${line}\n`)).toThrow(/longer than/);
  });

  it('encodes a command as one JSON object terminated by CRLF', () => {
    expect(encodeQmpMessage({ execute: 'quit', id: 'x' })).toBe('{"execute":"quit","id":"x"}\r\n');
  });
});
