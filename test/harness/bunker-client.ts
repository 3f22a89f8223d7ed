import WebSocket from 'ws';
import { AbstractSimplePool } from 'nostr-tools/abstract-pool';
import { BunkerSigner, createNostrConnectURI, parseBunkerInput } from 'nostr-tools/nip46';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';

/**
 * A real nostr-tools NIP-46 client. INTEROP.md: on Node 20 it needs a pool built with `ws`, and it
 * has no request timeout, so every call in tests goes through `withDeadline`.
 */
export async function connectBunkerSigner(
  bunkerUrl: string,
  options: { onauth?: (url: string) => void; enableReconnect?: boolean } = {},
): Promise<{ signer: BunkerSigner; clientPubkey: string; close(): Promise<void> }> {
  const pointer = await parseBunkerInput(bunkerUrl);
  if (!pointer) throw new Error(`not a bunker URL: ${bunkerUrl}`);
  // `ws` is what nostr-tools expects at run time; its DOM-shaped type differs only in event typing.
  const websocketImplementation = WebSocket as unknown as typeof globalThis.WebSocket;
  // enableReconnect: chaos tests restart the relay under the client (RELIABILITY.md G1, G2).
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation, maxWaitForConnection: 5_000, enableReconnect: options.enableReconnect ?? false });
  const clientSecret = generateSecretKey();
  // NIP-46 auth_url: nostr-tools hands the URL to onauth and keeps waiting for the real reply.
  const signer = BunkerSigner.fromBunker(clientSecret, pointer, { pool, ...(options.onauth ? { onauth: options.onauth } : {}) });
  await withDeadline(signer.connect(), 20_000, 'connect');
  return {
    signer,
    clientPubkey: getPublicKey(clientSecret),
    async close() {
      await signer.close();
      pool.destroy();
    },
  };
}

/**
 * The client-initiated flow: a nostr-tools client shows a nostrconnect:// URI (with the perms it
 * would like) and waits; `accept` hands it to the bunker's operator.
 */
export async function connectViaNostrConnect(
  relayUrl: string,
  accept: (uri: string) => Promise<void>,
  perms = ['sign_event:1', 'nip44_encrypt'],
): Promise<{ signer: BunkerSigner; clientPubkey: string; close(): Promise<void> }> {
  const websocketImplementation = WebSocket as unknown as typeof globalThis.WebSocket;
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation, maxWaitForConnection: 5_000 });
  const clientSecret = generateSecretKey();
  const clientPubkey = getPublicKey(clientSecret);
  const uri = createNostrConnectURI({ clientPubkey, relays: [relayUrl], secret: Math.random().toString(36).slice(2), perms, name: 'e2e nostrconnect' });
  const connecting = BunkerSigner.fromURI(clientSecret, uri, { pool }, 30_000);
  await accept(uri);
  const signer = await withDeadline(connecting, 30_000, 'nostrconnect');
  return {
    signer,
    clientPubkey,
    async close() {
      await signer.close();
      pool.destroy();
    },
  };
}

/** Rejects when `promise` has not settled after `ms`: a hang becomes a test failure, not a stall. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no reply within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
