import type { NostrEvent } from '../nostr/event.js';
import type { XOnlyPubkey } from '../protocol/brands.js';

/** A message that passed every check of the transport: signature, recipient, size, schema. */
export interface ReceivedMessage<T> {
  /** Authenticated sender: the Nostr pubkey that signed the carrying event. */
  readonly senderPubkey: XOnlyPubkey;
  readonly message: T;
  /** `created_at` of the carrying event, unix seconds. */
  readonly createdAtSec: number;
  /**
   * The sender-signed event that carried the message (relay transport): evidence a third party can
   * re-check, e.g. for blame on a bad partial signature (RELIABILITY.md §2.1 "Frames an honest node").
   */
  readonly signedEvent?: NostrEvent;
}

/** Why an inbound message was dropped; counted by the transport, never answered. */
export type DropReason =
  | 'bad_sig'
  | 'not_for_us'
  | 'unknown_sender'
  | 'too_large'
  | 'stale'
  | 'undecryptable'
  | 'bad_json'
  | 'bad_schema'
  | 'duplicate';

/** How a message leaves. */
export interface SendOptions {
  /**
   * Publish only once this settles: the message is encrypted and signed meanwhile, so the caller's
   * fsync of what must be on disk before the message leaves overlaps the sealing (issue 9). When
   * it rejects, nothing is sent and `send` rejects with its error.
   */
  readonly after?: Promise<unknown>;
}

/**
 * Coordinator <-> share-node messages; `TIn` is what this side accepts, `TOut` what it sends. Implementations: `memory.ts` (deterministic tests) and
 * `relay.ts` (Nostr relays, NIP-44 to the recipient, signed by the sender).
 */
export interface Transport<TIn, TOut = TIn> {
  readonly selfPubkey: XOnlyPubkey;
  /** Delivers `message` to `recipientPubkey`; resolves once handed to at least one relay. */
  send(recipientPubkey: XOnlyPubkey, message: TOut, options?: SendOptions): Promise<void>;
  /** Delivers the same `message` to every recipient (one carrying event where the transport can). */
  sendToAll?(recipientPubkeys: readonly XOnlyPubkey[], message: TOut, options?: SendOptions): Promise<void>;
  /** Registers a handler for validated inbound messages; returns the unsubscribe function. */
  onMessage(handler: (received: ReceivedMessage<TIn>) => void): () => void;
  /** Counts of dropped inbound messages by reason, since start. */
  dropped(): Readonly<Partial<Record<DropReason, number>>>;
  close(): Promise<void>;
}
