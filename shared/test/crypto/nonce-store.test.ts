import { describe, expect, it } from 'vitest';
import { commit, dealerKeygen, type SigningNonces } from '../../src/crypto/frost.js';
import { CommitmentPool, NonceStore } from '../../src/crypto/nonce-store.js';
import { seededRng } from './frost-helpers.js';

const { shares } = dealerKeygen({ threshold: 2, maxSigners: 2, rng: seededRng(4) });
const fresh = (): SigningNonces => commit(shares[0]!).nonces;

function clock(start = 1_000) {
  let nowMs = start;
  return { now: () => nowMs, advance: (ms: number) => void (nowMs += ms) };
}

function expectNonceReused(fn: () => unknown): void {
  expect(fn).toThrow(expect.objectContaining({ code: 'NONCE_REUSED' }));
}

describe('NonceStore', () => {
  it('returns stored nonces exactly once', () => {
    const store = new NonceStore(clock());
    const nonces = fresh();
    store.put('s1', nonces);
    expect(store.size).toBe(1);
    expect(store.has('s1')).toBe(true);
    expect(store.take('s1')).toBe(nonces);
    expect(store.has('s1')).toBe(false);
    expect(store.size).toBe(0);
    expectNonceReused(() => store.take('s1'));
  });

  it('refuses a second put for a session id, even after the first was taken, and discards the new nonces', () => {
    const store = new NonceStore(clock());
    store.put('s1', fresh());
    const second = fresh();
    expectNonceReused(() => store.put('s1', second));
    expect(second.isConsumed()).toBe(true);
    store.take('s1');
    expectNonceReused(() => store.put('s1', fresh()));
  });

  it('refuses to take a session that was never stored', () => {
    expectNonceReused(() => new NonceStore(clock()).take('unknown'));
  });

  it('expires pending nonces after the TTL and zeroes them', () => {
    const c = clock();
    const store = new NonceStore({ ttlMs: 1_000, now: c.now });
    const nonces = fresh();
    store.put('s1', nonces);
    c.advance(999);
    store.purgeExpired();
    expect(store.size).toBe(1);
    expect(store.has('s1')).toBe(true);
    c.advance(1);
    expect(store.has('s1')).toBe(false);
    expectNonceReused(() => store.take('s1'));
    expect(nonces.isConsumed()).toBe(true);
    expect(store.size).toBe(0);
  });

  it('forgets a seen session id only after the TTL', () => {
    const c = clock();
    const store = new NonceStore({ ttlMs: 1_000, now: c.now });
    store.put('s1', fresh());
    store.take('s1');
    c.advance(999);
    expectNonceReused(() => store.put('s1', fresh()));
    c.advance(1);
    store.put('s1', fresh());
    expect(store.size).toBe(1);
  });

  it('evicts and zeroes the oldest pending nonces at capacity', () => {
    const c = clock();
    const store = new NonceStore({ maxPending: 2, now: c.now });
    const [a, b, d] = [fresh(), fresh(), fresh()];
    store.put('a', a);
    c.advance(1);
    store.put('b', b);
    c.advance(1);
    store.put('d', d);
    expect(store.size).toBe(2);
    expect(a.isConsumed()).toBe(true);
    expectNonceReused(() => store.take('a'));
    expect(store.take('b')).toBe(b);
    expect(store.take('d')).toBe(d);
    expect(b.isConsumed()).toBe(false);
  });

  it('keeps the seen set bounded under a flood of session ids', () => {
    const store = new NonceStore({ maxPending: 1, now: clock().now });
    // One pending slot keeps 16 seen ids; the 17th put pushes out the first.
    for (let i = 0; i < 17; i++) store.put(`s${i}`, fresh());
    expect(store.size).toBe(1);
    expectNonceReused(() => store.put('s1', fresh()));
    store.put('s0', fresh());
  });

  it('refuses consumed nonces and bad arguments, naming the field', () => {
    const store = new NonceStore(clock());
    const spent = fresh();
    spent.discard();
    expectNonceReused(() => store.put('s1', spent));
    expect(() => store.put('', fresh())).toThrow(/sessionId/);
    expect(() => store.put('x'.repeat(129), fresh())).toThrow(/sessionId/);
    expect(() => store.put('s2', {} as SigningNonces)).toThrow(/nonces/);
    expect(() => new NonceStore({} as never)).toThrow(/options\.now/);
    expect(() => new NonceStore({ now: () => 0, maxPending: 0 })).toThrow(/options\.maxPending/);
    expect(() => new NonceStore({ now: () => 0, ttlMs: -1 })).toThrow(/options\.ttlMs/);
  });
});

describe('CommitmentPool.prepare (issue 9: the replacement commitment made while idle)', () => {
  const now = () => 0;

  it('hands out prepared pairs first, and none can be taken before it is issued', () => {
    const pool = new CommitmentPool({ now });
    pool.prepare(shares[0]!, 2);
    expect([pool.size, pool.prepared]).toEqual([0, 2]);
    const [first] = pool.issue(shares[0]!, 1);
    expect([pool.size, pool.prepared]).toEqual([1, 1]);
    const [second] = pool.issue(shares[0]!, 1);
    const [third] = pool.issue(shares[0]!, 1);
    expect([pool.size, pool.prepared]).toEqual([3, 0]);
    expect(new Set([first, second, third].map((c) => c!.hiding)).size).toBe(3);
    expect(pool.take(first!)).toBeDefined();
    expect(pool.take(first!)).toBeUndefined();
  });

  it('keeps at most `count` waiting, and zeroes them on clear', () => {
    const pool = new CommitmentPool({ now });
    pool.prepare(shares[0]!, 1);
    pool.prepare(shares[0]!, 1);
    expect(pool.prepared).toBe(1);
    const [issued] = pool.issue(shares[0]!, 1);
    // One was waiting, so the next issue makes a fresh pair rather than a second prepared one.
    const [fresh] = pool.issue(shares[0]!, 1);
    expect(issued!.hiding).not.toBe(fresh!.hiding);
    pool.prepare(shares[0]!, 1);
    pool.clear();
    expect([pool.size, pool.prepared]).toEqual([0, 0]);
    expect(pool.take(issued!)).toBeUndefined();
  });

  it('discards a pair prepared for another share instead of issuing it for this one', () => {
    const pool = new CommitmentPool({ now });
    pool.prepare(shares[1]!, 1);
    const [issued] = pool.issue(shares[0]!, 1);
    expect(pool.prepared).toBe(0);
    expect(issued!.identifier).toBe(shares[0]!.identifier);
    const nonces = pool.take(issued!);
    expect(nonces).toBeDefined();
  });
});
