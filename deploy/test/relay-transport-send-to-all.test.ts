import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { startLocalRelay, type LocalRelay } from '../src/relay/index.js';
import { RelayPool, RelayTransport } from '../../shared/src/transport/index.js';
import { KIND_FROSTBUNKER_NODE } from '../../shared/src/nostr/kinds.js';
import { finalizeEvent, initEventSigner } from '../../shared/src/nostr/event-signer.js';
import type { NostrEvent } from '../../shared/src/nostr/event.js';
import { xOnlyPubkeySchema, type XOnlyPubkey } from '../../shared/src/protocol/brands.js';
import { conformanceMessageSchema, sleep, waitFor, type ConformanceMessage } from '../../shared/test/transport/conformance.js';

beforeAll(() => initEventSigner());

interface Peer {
  secretKey: Uint8Array;
  pubkey: XOnlyPubkey;
  pool: RelayPool;
  transport: RelayTransport<ConformanceMessage>;
  published: NostrEvent[];
  inbox: string[];
}

// RelayTransport.sendToAll (issue 9): one event for several recipients, each reading only its own
// NIP-44 payload, over a real local relay.
describe('RelayTransport.sendToAll', { timeout: 15_000 }, () => {
  let relay: LocalRelay;
  const peers: Peer[] = [];

  function peer(knows: () => readonly XOnlyPubkey[]): Peer {
    const secretKey = generateSecretKey();
    const pool = new RelayPool({ urls: [relay.url], publishTimeoutMs: 3_000 });
    const published: NostrEvent[] = [];
    const transport = new RelayTransport<ConformanceMessage>({
      secretKey,
      pool: { subscribe: (f, on, o) => pool.subscribe(f, on, o), publish: (event) => (published.push(event), pool.publish(event)) },
      kind: KIND_FROSTBUNKER_NODE,
      schema: conformanceMessageSchema,
      isKnownSender: (pubkey) => knows().includes(pubkey),
    });
    const inbox: string[] = [];
    transport.onMessage((r) => inbox.push(r.message.text));
    const made = { secretKey, pubkey: xOnlyPubkeySchema.parse(getPublicKey(secretKey)), pool, transport, published, inbox };
    peers.push(made);
    return made;
  }

  async function cluster() {
    relay = await startLocalRelay();
    const nodes: Peer[] = [];
    const coordinator = peer(() => nodes.map((n) => n.pubkey));
    for (let i = 0; i < 3; i++) nodes.push(peer(() => [coordinator.pubkey]));
    const stranger = peer(() => [coordinator.pubkey]);
    await waitFor('pools live', () => peers.every((p) => p.pool.health().every((h) => h.connected && h.liveSubscriptions >= 1)), 10_000);
    return { coordinator, nodes, stranger };
  }

  afterEach(async () => {
    for (const p of peers.splice(0)) {
      await p.transport.close();
      await p.pool.close();
    }
    await relay?.close();
  });

  it('sends one event p-tagged to every recipient; each gets the message once, nobody else gets it', async () => {
    const { coordinator, nodes, stranger } = await cluster();
    await coordinator.transport.sendToAll(nodes.map((n) => n.pubkey), { v: 1, text: 'round request' });
    await waitFor('every node received it', () => nodes.every((n) => n.inbox.length === 1));
    expect(nodes.map((n) => n.inbox)).toEqual([['round request'], ['round request'], ['round request']]);
    expect(coordinator.published).toHaveLength(1);
    expect(coordinator.published[0]!.tags).toEqual(nodes.map((n) => ['p', n.pubkey]));
    await sleep(200);
    expect(stranger.inbox).toEqual([]);
    expect(stranger.transport.dropped()).toEqual({});
  });

  it('a recipient cannot read another recipient\'s payload: the same event with the payloads swapped is dropped as undecryptable by both', async () => {
    const { coordinator, nodes } = await cluster();
    await coordinator.transport.sendToAll(nodes.slice(0, 2).map((n) => n.pubkey), { v: 1, text: 'first' });
    await waitFor('delivered', () => nodes[0]!.inbox.length === 1 && nodes[1]!.inbox.length === 1);
    const sent = coordinator.published[0]!;
    const [a, b] = JSON.parse(sent.content) as [string, string];
    // Re-signed by the coordinator, so only the swap can make the nodes refuse it.
    const swapped = finalizeEvent({ kind: sent.kind, tags: sent.tags, content: JSON.stringify([b, a]), created_at: sent.created_at + 1 }, coordinator.secretKey);
    await coordinator.pool.publish(swapped);
    await waitFor('both dropped it', () => nodes.slice(0, 2).every((n) => n.transport.dropped().undecryptable === 1));
    expect(nodes[0]!.inbox).toEqual(['first']);
    expect(nodes[1]!.inbox).toEqual(['first']);
  });

  it('falls back to one event per recipient when the payloads together would exceed the single-message bound', async () => {
    const { coordinator, nodes } = await cluster();
    const text = 'x'.repeat(20_000); // one payload fits the 40,960-byte bound; three do not
    await coordinator.transport.sendToAll(nodes.map((n) => n.pubkey), { v: 1, text });
    await waitFor('every node received it', () => nodes.every((n) => n.inbox.length === 1));
    expect(coordinator.published).toHaveLength(3);
    expect(coordinator.published.map((e) => e.tags)).toEqual(nodes.map((n) => [['p', n.pubkey]]));
  });
});
