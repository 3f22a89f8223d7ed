import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as nip04 from 'nostr-tools/nip04';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { NostrEvent } from '../../src/nostr/event.js';
import { finalizeEvent, initEventSigner, verifyEvent } from '../../src/nostr/event-signer.js';
import { KIND_NIP46 } from '../../src/nostr/kinds.js';
import { createNip44Codec } from '../../src/nostr/nip44.js';
import { ReplyRedelivery } from '../../src/transport/reply-redelivery.js';

beforeAll(() => initEventSigner());
afterEach(() => vi.useRealTimers());

const bunkerKey = generateSecretKey();
const client = getPublicKey(generateSecretKey());
const codec = createNip44Codec(bunkerKey);
const reply = (body: object, scheme: 'nip44' | 'nip04' = 'nip44'): NostrEvent =>
  finalizeEvent(
    {
      kind: KIND_NIP46,
      content: scheme === 'nip44' ? codec.encrypt(client, JSON.stringify(body)) : nip04.encrypt(bunkerKey, client, JSON.stringify(body)),
      tags: [['p', client]],
      created_at: Math.floor(Date.now() / 1000),
    },
    bunkerKey,
  );

/** A pool that records publishes; `churned` is what `recentlyChurned` answers. */
function fakePool() {
  const state = { churned: true, published: [] as NostrEvent[] };
  return {
    state,
    pool: {
      subscribe: () => ({ close: () => {} }),
      publish: async (event: NostrEvent) => {
        state.published.push(event);
        return { acceptedBy: ['ws://r'], rejected: [] };
      },
      recentlyChurned: () => state.churned,
    },
  };
}

// RELIABILITY.md G2, reply direction: a client whose subscription is not back yet gets a copy later.
describe('ReplyRedelivery', () => {
  it('publishes once while no relay churned', async () => {
    vi.useFakeTimers();
    const { pool, state } = fakePool();
    state.churned = false;
    const redelivery = new ReplyRedelivery({ pool, secretKey: bunkerKey, afterMs: 1_000 });
    await redelivery.publish(reply({ id: 'r1', result: 'ok' }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.published).toHaveLength(1);
  });

  it('publishes a final reply again after a relay churned, as a fresh signed event with the same content, and stops after maxCopies', async () => {
    vi.useFakeTimers();
    const { pool, state } = fakePool();
    const redelivery = new ReplyRedelivery({ pool, secretKey: bunkerKey, afterMs: 1_000, maxCopies: 2 });
    const original = reply({ id: 'r1', result: '{"sig":"…"}' });
    await redelivery.publish(original);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(state.published).toHaveLength(2);
    // Still churning when the first copy went out: one more, then no further.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.published).toHaveLength(3);
    for (const copy of state.published.slice(1)) {
      expect(copy.id).not.toBe(original.id);
      expect(verifyEvent(copy)).toBe(true);
      expect({ kind: copy.kind, content: copy.content, tags: copy.tags, pubkey: copy.pubkey }).toEqual({ kind: original.kind, content: original.content, tags: original.tags, pubkey: original.pubkey });
    }
    expect(redelivery.pending).toBe(0);
  });

  it('copies NIP-04 replies too, but never an auth_url interim reply or an event that is not its NIP-46 reply', async () => {
    vi.useFakeTimers();
    const { pool, state } = fakePool();
    const redelivery = new ReplyRedelivery({ pool, secretKey: bunkerKey, afterMs: 1_000, maxCopies: 1 });
    await redelivery.publish(reply({ id: 'a', result: 'auth_url', error: 'https://bunker/approvals/apr_1' }));
    await redelivery.publish(finalizeEvent({ kind: 1, content: 'x', tags: [['p', client]], created_at: 1 }, bunkerKey));
    await redelivery.publish(finalizeEvent({ kind: KIND_NIP46, content: 'x', tags: [['p', client]], created_at: 1 }, generateSecretKey()));
    await redelivery.publish(reply({ id: 'b', result: 'pong' }, 'nip04'));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(state.published).toHaveLength(5);
    expect(nip04.decrypt(bunkerKey, client, state.published[4]!.content)).toBe('{"id":"b","result":"pong"}');
  });

  it('close() drops the copies not sent yet', async () => {
    vi.useFakeTimers();
    const { pool, state } = fakePool();
    const redelivery = new ReplyRedelivery({ pool, secretKey: bunkerKey, afterMs: 1_000 });
    await redelivery.publish(reply({ id: 'r1', result: 'ok' }));
    expect(redelivery.pending).toBe(1);
    redelivery.close();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.published).toHaveLength(1);
  });
});
