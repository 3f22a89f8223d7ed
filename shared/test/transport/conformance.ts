import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ReceivedMessage, Transport } from '../../src/transport/transport.js';

/**
 * One generic suite run against every `Transport` implementation (ZF frost's
 * `ciphersuite_generic`; STYLE.md 2.9): memory here, relay in deploy/test.
 */

export const conformanceMessageSchema = z.strictObject({ v: z.literal(1), text: z.string() });
export type ConformanceMessage = z.infer<typeof conformanceMessageSchema>;

export interface TransportPair {
  /** Knows bob. */
  readonly alice: Transport<ConformanceMessage>;
  /** Knows alice (and only alice). */
  readonly bob: Transport<ConformanceMessage>;
  /** A valid identity neither alice nor bob knows. */
  readonly stranger: Transport<ConformanceMessage>;
  /** From now on every alice → bob message reaches bob's transport at least twice. */
  duplicateEverything(): void;
  /** How many duplicate copies the network or client below the transport has seen (> 0 once duplicating). */
  duplicatesObserved(): number;
  /** Releases everything the pair holds: transports, sockets, pools, relays. */
  close(): Promise<void>;
  /** After `close()`: throws if anything is still held (open sockets, live connections). */
  assertReleased(): void;
}

export interface ConformanceOptions {
  /** Deadline for anything expected to arrive. */
  deliveryTimeoutMs?: number;
  /** How long to wait before concluding that something did not arrive. */
  quietPeriodMs?: number;
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function collect(transport: Transport<ConformanceMessage>) {
  const received: ReceivedMessage<ConformanceMessage>[] = [];
  const unsubscribe = transport.onMessage((r) => received.push(r));
  return { received, unsubscribe, texts: () => received.map((r) => r.message.text) };
}

export function runTransportConformance(
  name: string,
  makePair: () => Promise<TransportPair>,
  options: ConformanceOptions = {},
): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 5_000;
  const quietPeriodMs = options.quietPeriodMs ?? 200;

  describe(`Transport conformance: ${name}`, () => {
    let pair: TransportPair;
    let closed = false;

    beforeEach(async () => {
      pair = await makePair();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await pair.close();
    });

    it('delivers a valid message with the authenticated sender', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      const beforeSec = Math.floor(Date.now() / 1000);
      await alice.send(bob.selfPubkey, { v: 1, text: 'hello' });
      await waitFor('delivery', () => inbox.received.length === 1, deliveryTimeoutMs);
      const [received] = inbox.received;
      expect(received?.senderPubkey).toBe(alice.selfPubkey);
      expect(received?.message).toEqual({ v: 1, text: 'hello' });
      expect(received?.createdAtSec).toBeGreaterThanOrEqual(beforeSec - 1);
      expect(received?.createdAtSec).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
      expect(bob.dropped()).toEqual({});
    });

    it('holds a message until `after` resolves, and sends nothing when it rejects (issue 9: reply after the fsync)', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      let release!: () => void;
      const held = alice.send(bob.selfPubkey, { v: 1, text: 'held' }, { after: new Promise<void>((resolve) => (release = resolve)) });
      let refuse!: (error: Error) => void;
      const refused = alice.send(bob.selfPubkey, { v: 1, text: 'never' }, { after: new Promise<void>((_, reject) => (refuse = reject)) });
      await alice.send(bob.selfPubkey, { v: 1, text: 'free' });
      await waitFor('the free message', () => inbox.texts().includes('free'), deliveryTimeoutMs);
      await sleep(quietPeriodMs);
      expect(inbox.texts()).toEqual(['free']);
      refuse(new Error('fsync failed'));
      await expect(refused).rejects.toThrow('fsync failed');
      release();
      await held;
      await waitFor('the held message', () => inbox.texts().includes('held'), deliveryTimeoutMs);
      await sleep(quietPeriodMs);
      expect(inbox.texts()).toEqual(['free', 'held']);
    });

    it('drops and counts a message from an unknown sender, never delivering it', async () => {
      const { alice, bob, stranger } = pair;
      const inbox = collect(bob);
      await stranger.send(bob.selfPubkey, { v: 1, text: 'from a stranger' });
      await waitFor('unknown_sender drop', () => bob.dropped().unknown_sender === 1, deliveryTimeoutMs);
      // A later message from a known sender is the barrier: the stranger's was processed before it.
      await alice.send(bob.selfPubkey, { v: 1, text: 'barrier' });
      await waitFor('barrier', () => inbox.texts().includes('barrier'), deliveryTimeoutMs);
      expect(inbox.texts()).toEqual(['barrier']);
    });

    it('rejects an oversized send with PROTOCOL_TOO_LARGE before anything leaves', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      await expect(alice.send(bob.selfPubkey, { v: 1, text: 'x'.repeat(70_000) })).rejects.toMatchObject({
        code: 'PROTOCOL_TOO_LARGE',
      });
      // Multi-byte characters count in UTF-8 bytes, not UTF-16 units: 30,000 × 3 bytes.
      await expect(alice.send(bob.selfPubkey, { v: 1, text: '€'.repeat(30_000) })).rejects.toMatchObject({
        code: 'PROTOCOL_TOO_LARGE',
      });
      await alice.send(bob.selfPubkey, { v: 1, text: 'barrier' });
      await waitFor('barrier', () => inbox.received.length === 1, deliveryTimeoutMs);
      expect(inbox.texts()).toEqual(['barrier']);
    });

    it('rejects a malformed recipient pubkey with PROTOCOL_INVALID', async () => {
      const { alice, bob } = pair;
      const upperCase = bob.selfPubkey.toUpperCase() as typeof bob.selfPubkey;
      await expect(alice.send(upperCase, { v: 1, text: 'x' })).rejects.toMatchObject({ code: 'PROTOCOL_INVALID' });
    });

    it('drops and counts a message that fails the schema (bad_schema)', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      // Outbound messages are not re-validated; the receiver's schema is the gate.
      const wrongVersion = { v: 2, text: 'future' } as unknown as ConformanceMessage;
      const extraField = { v: 1, text: 'x', smuggled: true } as unknown as ConformanceMessage;
      await alice.send(bob.selfPubkey, wrongVersion);
      await alice.send(bob.selfPubkey, extraField);
      await waitFor('two bad_schema drops', () => bob.dropped().bad_schema === 2, deliveryTimeoutMs);
      await alice.send(bob.selfPubkey, { v: 1, text: 'barrier' });
      await waitFor('barrier', () => inbox.received.length === 1, deliveryTimeoutMs);
      expect(inbox.texts()).toEqual(['barrier']);
    });

    it('delivers each message once even when the network duplicates it', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      pair.duplicateEverything();
      for (const text of ['one', 'two', 'three']) await alice.send(bob.selfPubkey, { v: 1, text });
      await waitFor('three deliveries', () => inbox.received.length >= 3, deliveryTimeoutMs);
      await waitFor('duplicates to reach the receiver', () => pair.duplicatesObserved() >= 3, deliveryTimeoutMs);
      await sleep(quietPeriodMs);
      expect(inbox.texts().sort()).toEqual(['one', 'three', 'two']);
    });

    it('keeps delivering to other handlers when one throws', async () => {
      const { alice, bob } = pair;
      bob.onMessage(() => {
        throw new Error('handler bug');
      });
      const inbox = collect(bob);
      await alice.send(bob.selfPubkey, { v: 1, text: 'first' });
      await alice.send(bob.selfPubkey, { v: 1, text: 'second' });
      await waitFor('both messages', () => inbox.received.length === 2, deliveryTimeoutMs);
      expect(inbox.texts().sort()).toEqual(['first', 'second']);
    });

    it('stops delivering to a handler once it unsubscribes', async () => {
      const { alice, bob } = pair;
      const leaving = collect(bob);
      const staying = collect(bob);
      await alice.send(bob.selfPubkey, { v: 1, text: 'before' });
      await waitFor('first message to both', () => leaving.received.length === 1 && staying.received.length === 1, deliveryTimeoutMs);
      leaving.unsubscribe();
      leaving.unsubscribe(); // idempotent
      await alice.send(bob.selfPubkey, { v: 1, text: 'after' });
      await waitFor('second message to the staying handler', () => staying.received.length === 2, deliveryTimeoutMs);
      expect(leaving.texts()).toEqual(['before']);
      expect(staying.texts()).toEqual(['before', 'after']);
    });

    it('close() stops delivery, refuses sends, is idempotent and releases everything', async () => {
      const { alice, bob } = pair;
      const inbox = collect(bob);
      await bob.close();
      await bob.close();
      await expect(bob.send(alice.selfPubkey, { v: 1, text: 'after close' })).rejects.toThrow(/closed/);
      const lateHandler = collect(bob);
      await alice.send(bob.selfPubkey, { v: 1, text: 'to a closed transport' }).catch(() => {});
      await sleep(quietPeriodMs);
      expect(inbox.received).toEqual([]);
      expect(lateHandler.received).toEqual([]);
      await pair.close();
      closed = true;
      pair.assertReleased();
    });
  });
}
