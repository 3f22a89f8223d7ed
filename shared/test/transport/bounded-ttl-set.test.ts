import { describe, expect, it } from 'vitest';
import { BoundedTtlSet } from '../../src/transport/bounded-ttl-set.js';

describe('BoundedTtlSet', () => {
  it('reports a key as seen until its TTL passes', () => {
    let now = 1_000;
    const seen = new BoundedTtlSet({ maxEntries: 10, ttlMs: 100, nowMs: () => now });
    expect(seen.add('a')).toBe(true);
    expect(seen.add('a')).toBe(false);
    now += 99;
    expect(seen.has('a')).toBe(true);
    now += 1;
    expect(seen.has('a')).toBe(false);
    expect(seen.add('a')).toBe(true);
  });

  it('never holds more than maxEntries, evicting the oldest', () => {
    const seen = new BoundedTtlSet({ maxEntries: 3, ttlMs: 60_000 });
    for (const key of ['a', 'b', 'c', 'd']) seen.add(key);
    expect(seen.size).toBe(3);
    expect(seen.has('a')).toBe(false);
    expect(seen.has('d')).toBe(true);
  });

  it('prunes expired entries as new ones arrive', () => {
    let now = 0;
    const seen = new BoundedTtlSet({ maxEntries: 1_000, ttlMs: 10, nowMs: () => now });
    for (let i = 0; i < 100; i += 1) seen.add(`k${i}`);
    now = 20;
    seen.add('fresh');
    expect(seen.size).toBe(1);
  });
});
