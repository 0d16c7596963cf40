import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonObjectSplitter } from '../../../agent/console/index.js';
import { codeOf } from '../../support/error-code.js';

const feedAll = (s: JsonObjectSplitter, text: string, cuts: number[] = []): unknown[] => {
  const bytes = Buffer.from(text);
  const items: unknown[] = [];
  let at = 0;
  for (const n of cuts) {
    items.push(...s.feed(bytes.subarray(at, at + n)));
    at += n;
  }
  items.push(...s.feed(bytes.subarray(at)));
  return items;
};

describe('JSON object splitter', () => {
  it('splits objects sent back to back without separators, as qemu.qmp writes them', () => {
    const items = feedAll(new JsonObjectSplitter(1024), '{"execute":"qmp_capabilities"}{"execute":"query-status","id":1}');
    expect(items).toEqual([{ text: '{"execute":"qmp_capabilities"}' }, { text: '{"execute":"query-status","id":1}' }]);
  });

  it('is not fooled by braces and escaped quotes inside strings, however the bytes are cut', () => {
    const objs = [{ execute: 'send-key', arguments: { keys: [{ type: 'qcode', data: 'a' }] }, id: 'x}{"\\' }, { execute: 'query-status', id: 'é{' }];
    const text = objs.map((o) => JSON.stringify(o)).join('\r\n');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 30 }), (cuts) => {
        const items = feedAll(new JsonObjectSplitter(1024), text, cuts) as { text: string }[];
        expect(items.map((i) => JSON.parse(i.text) as unknown)).toEqual(objs);
      }),
    );
  });

  it('reports bytes that cannot start an object as one garbage item, then goes on', () => {
    expect(feedAll(new JsonObjectSplitter(1024), 'hello {"a":1}')).toEqual([{ garbage: 'hello' }, { text: '{"a":1}' }]);
  });

  it('refuses (ERR_BAD_REQUEST) an object longer than its limit', () => {
    const s = new JsonObjectSplitter(16);
    expect(codeOf(() => s.feed(Buffer.from('{"execute":"xxxxxxxxxxxxxxxxxxxx"')))).toBe('ERR_BAD_REQUEST');
  });
});
