import WebSocket from 'ws';
import NDK, { NDKEvent, NDKNip46Signer, NDKUser } from '@nostr-dev-kit/ndk';
import { NostrConnectSigner } from 'applesauce-signers';
import { AbstractSimplePool } from 'nostr-tools/abstract-pool';
import type { Filter } from 'nostr-tools/filter';
import { verifyEvent, type Event, type EventTemplate } from 'nostr-tools/pure';
import { withDeadline } from './bunker-client.js';

/** The common surface the interop tests drive, whatever client library is underneath. */
export interface InteropClient {
  readonly name: string;
  getPublicKey(): Promise<string>;
  signEvent(template: EventTemplate): Promise<Event>;
  nip44Encrypt(peerPubkey: string, plaintext: string): Promise<string>;
  nip44Decrypt(peerPubkey: string, payload: string): Promise<string>;
  /** NIP-46 switch_relays through the library: the relay list the bunker answered, or null. */
  switchRelays(): Promise<string[] | null>;
  /** NIP-46 logout through the library (or its raw request where it has no logout call). */
  logout(): Promise<void>;
  close(): Promise<void>;
}

const wsImplementation = WebSocket as unknown as typeof globalThis.WebSocket;

/**
 * NDK's NIP-46 signer. INTEROP.md: it needs `globalThis.WebSocket` (Node 20 has none), sends
 * params[0] = "", and uses only `sig` from the sign_event reply.
 */
export async function connectNdk(bunkerUrl: string, relayUrl: string): Promise<InteropClient> {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= wsImplementation;
  const ndk = new NDK({ explicitRelayUrls: [relayUrl] });
  await withDeadline(ndk.connect(5_000), 10_000, 'ndk connect');
  const signer = NDKNip46Signer.bunker(ndk, bunkerUrl);
  await withDeadline(signer.blockUntilReady(), 20_000, 'ndk blockUntilReady');
  const ndkRequest = (method: string) =>
    new Promise<string>((resolve, reject) => {
      void signer.rpc.sendRequest(signer.bunkerPubkey!, method, [], 24133, (response) => (response.error ? reject(new Error(response.error)) : resolve(response.result)));
    });
  return {
    name: 'NDK',
    getPublicKey: () => signer.getPublicKey(),
    async signEvent(template) {
      const event = new NDKEvent(ndk, { ...template, tags: template.tags });
      await event.sign(signer);
      return event.rawEvent() as Event;
    },
    nip44Encrypt: (peer, text) => signer.encrypt(new NDKUser({ pubkey: peer }), text, 'nip44'),
    nip44Decrypt: (peer, payload) => signer.decrypt(new NDKUser({ pubkey: peer }), payload, 'nip44'),
    // NDK calls switch_relays itself while connecting and keeps the call private: use its RPC.
    switchRelays: () => ndkRequest('switch_relays').then((result) => JSON.parse(result) as string[] | null),
    logout: () => ndkRequest('logout').then(() => undefined),
    async close() {
      signer.stop();
      for (const relay of ndk.pool.relays.values()) relay.disconnect();
    },
  };
}

/**
 * applesauce's NostrConnectSigner, given subscription and publish methods over a nostr-tools pool.
 * An AsyncIterable is a valid rxjs ObservableInput, so no rxjs import is needed here.
 */
export async function connectApplesauce(bunkerUrl: string): Promise<InteropClient> {
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: wsImplementation, maxWaitForConnection: 5_000 });
  const subscriptionMethod = (relays: string[], filters: Filter[]): AsyncIterable<Event> => ({
    [Symbol.asyncIterator]() {
      const queue: Event[] = [];
      let wake: (() => void) | undefined;
      const closers = filters.map((filter) =>
        pool.subscribeMany(relays, filter, {
          onevent: (event) => {
            queue.push(event);
            wake?.();
          },
        }),
      );
      return {
        async next() {
          while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          return { value: queue.shift()!, done: false };
        },
        async return() {
          for (const closer of closers) closer.close();
          return { value: undefined, done: true };
        },
      };
    },
  });
  const publishMethod = async (relays: string[], event: Event) => Promise.any(pool.publish(relays, event));
  // Without onAuth, applesauce calls window.open on auth_url (no window in Node): the request fails.
  const signer = await withDeadline(
    NostrConnectSigner.fromBunkerURI(bunkerUrl, { subscriptionMethod, publishMethod, onAuth: async () => undefined }),
    20_000,
    'applesauce connect',
  );
  return {
    name: 'applesauce',
    getPublicKey: () => signer.getPublicKey(),
    signEvent: (template) => signer.signEvent(template),
    nip44Encrypt: (peer, text) => signer.nip44Encrypt(peer, text),
    nip44Decrypt: (peer, payload) => signer.nip44Decrypt(peer, payload),
    // INTEROP.md: applesauce returns the NIP-46 result string as is (a JSON list) and so never
    // applies it; parse it here to compare the answer itself.
    switchRelays: async () => {
      const result: unknown = await signer.switchRelays();
      return (typeof result === 'string' ? JSON.parse(result) : result) as string[] | null;
    },
    logout: () => signer.logout(),
    async close() {
      await signer.close();
      pool.destroy();
    },
  };
}
