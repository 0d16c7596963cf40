import { describe, expect, it } from 'vitest';
import { IdempotencyCache } from '../../../agent/api/idempotency.js';

describe('IdempotencyCache', () => {
  it('returns the same promise for a repeated (method, key) and runs the action once', async () => {
    const c = new IdempotencyCache();
    let runs = 0;
    const fn = async (): Promise<number> => ++runs;
    const a = c.run('install', 'k1', { x: 1 }, fn);
    const b = c.run('install', 'k1', { x: 1 }, fn);
    expect(b).toBe(a);
    expect(await b).toBe(1);
    expect(runs).toBe(1);
  });

  it('keeps methods apart: the same key on another method runs again', async () => {
    const c = new IdempotencyCache();
    let runs = 0;
    await c.run('install', 'k', {}, async () => ++runs);
    await c.run('job.cancel', 'k', {}, async () => ++runs);
    expect(runs).toBe(2);
  });

  it('refuses a key reused with different params with ERR_BAD_REQUEST', async () => {
    const c = new IdempotencyCache();
    await c.run('install', 'k', { a: 1 }, async () => 1);
    await expect(c.run('install', 'k', { a: 2 }, async () => 2)).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST' });
  });

  it('remembers a rejection too: a retry gets the same failure instead of acting twice', async () => {
    const c = new IdempotencyCache();
    let runs = 0;
    const fail = async (): Promise<never> => {
      runs++;
      throw new Error('boom');
    };
    await expect(c.run('install', 'k', {}, fail)).rejects.toThrow('boom');
    await expect(c.run('install', 'k', {}, fail)).rejects.toThrow('boom');
    expect(runs).toBe(1);
  });

  it('forgets entries after the TTL of the injected clock', async () => {
    let now = 1000;
    const c = new IdempotencyCache({ ttlMs: 500, now: () => now });
    let runs = 0;
    await c.run('install', 'k', {}, async () => ++runs);
    now += 499;
    await c.run('install', 'k', {}, async () => ++runs);
    expect(runs).toBe(1);
    now += 1;
    await c.run('install', 'k', {}, async () => ++runs);
    expect(runs).toBe(2);
  });

  it('is bounded: the oldest entry is evicted beyond maxEntries', async () => {
    const c = new IdempotencyCache({ maxEntries: 2 });
    let runs = 0;
    for (const k of ['a', 'b', 'c']) await c.run('install', k, {}, async () => ++runs);
    expect(c.size).toBe(2);
    await c.run('install', 'c', {}, async () => ++runs);
    expect(runs).toBe(3);
    await c.run('install', 'a', {}, async () => ++runs);
    expect(runs).toBe(4);
  });
});
