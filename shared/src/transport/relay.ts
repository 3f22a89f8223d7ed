import type { z } from 'zod';
import { getPublicKey } from 'nostr-tools/pure';
import { FrostbunkerError, ProtocolError } from '../errors.js';
import { xOnlyPubkeySchema, type XOnlyPubkey } from '../protocol/brands.js';
import { LIMITS, WINDOWS } from '../protocol/limits.js';
import type { NostrEvent } from '../nostr/event.js';
import { assertEventSignerReady, finalizeEvent, verifyEvent } from '../nostr/event-signer.js';
import { createNip44Codec, NIP44_MAX_PLAINTEXT_BYTES, nip44PayloadChars, type Nip44Codec } from '../nostr/nip44.js';
import { BoundedTtlSet } from './bounded-ttl-set.js';
import {
  decodeMessage,
  defaultNowSec,
  DropCounter,
  exceedsUtf8Bytes,
  HandlerSet,
  isWithinWindow,
} from './inbound.js';
import { silentLogger, type TransportLogger } from './logger.js';
import type { PoolSubscription, RelayPoolPort } from './relay-pool.js';
import type { DropReason, ReceivedMessage, SendOptions, Transport } from './transport.js';

export interface RelayTransportOptions<TIn> {
  /** Our identity secret: signs outbound events and is the NIP-44 key. Held by reference. */
  secretKey: Uint8Array;
  pool: RelayPoolPort;
  /** Event kind carrying the messages, e.g. `KIND_FROSTBUNKER_NODE`. */
  kind: number;
  /** Inbound messages must parse with this schema (outbound ones are not re-checked). */
  schema: z.ZodType<TIn>;
  /** Checked before any ECDH, so events from strangers cost a signature check and nothing more. */
  isKnownSender: (pubkey: XOnlyPubkey) => boolean;
  /** Largest message, UTF-8 JSON bytes, before encryption. Default `LIMITS.nodeMessageBytes`. */
  maxMessageBytes?: number;
  /** Accepted `created_at` skew, seconds either way. Default 60 (RELIABILITY.md decision 4). */
  createdAtWindowSec?: number;
  nowSec?: () => number;
  /** Inbound dedupe by event id. Default 10,000 ids, kept twice the window. */
  maxDedupeEntries?: number;
  /** New messages only at start, history after a reconnect (RelayPool `liveOnlyAtStart`). Default false. */
  liveOnlyAtStart?: boolean;
  /** Defence in depth: the pool already verifies. Default `verifyEvent` of `../nostr/event-signer` (libsecp256k1). */
  verify?: (event: NostrEvent) => boolean;
  logger?: TransportLogger;
}

const DEFAULT_MAX_DEDUPE_ENTRIES = 10_000;

/**
 * `Transport` over Nostr relays (DESIGN.md "Transport"): each message is JSON, NIP-44 encrypted to
 * the recipient, carried by an event of `kind` signed by the sender and `p`-tagged to the
 * recipient. Inbound events pass, in this order, the signature, recipient, known-sender, size,
 * time-window, dedupe, decrypt, JSON and schema checks; a failure drops and counts the event.
 */
export class RelayTransport<TIn, TOut = TIn> implements Transport<TIn, TOut> {
  readonly selfPubkey: XOnlyPubkey;
  readonly #secretKey: Uint8Array;
  readonly #pool: RelayPoolPort;
  readonly #kind: number;
  readonly #schema: z.ZodType<TIn>;
  readonly #isKnownSender: (pubkey: XOnlyPubkey) => boolean;
  readonly #maxMessageBytes: number;
  readonly #maxContentChars: number;
  readonly #windowSec: number;
  readonly #nowSec: () => number;
  readonly #verify: (event: NostrEvent) => boolean;
  readonly #logger: TransportLogger;
  readonly #codec: Nip44Codec;
  readonly #seenEventIds: BoundedTtlSet;
  readonly #drops = new DropCounter();
  readonly #handlers: HandlerSet<TIn>;
  readonly #subscription: PoolSubscription;
  #closed = false;

  /** Needs `initEventSigner()` to have resolved: every message it sends is signed by it. */
  constructor(options: RelayTransportOptions<TIn>) {
    assertEventSignerReady();
    this.#secretKey = options.secretKey;
    this.#codec = createNip44Codec(options.secretKey);
    this.selfPubkey = xOnlyPubkeySchema.parse(getPublicKey(options.secretKey));
    this.#pool = options.pool;
    this.#kind = options.kind;
    this.#schema = options.schema;
    this.#isKnownSender = options.isKnownSender;
    this.#maxMessageBytes = options.maxMessageBytes ?? LIMITS.nodeMessageBytes;
    if (
      !Number.isSafeInteger(this.#maxMessageBytes) ||
      this.#maxMessageBytes < 1 ||
      this.#maxMessageBytes > NIP44_MAX_PLAINTEXT_BYTES
    ) {
      throw new RangeError(`maxMessageBytes: expected 1..${NIP44_MAX_PLAINTEXT_BYTES}`);
    }
    this.#maxContentChars = nip44PayloadChars(this.#maxMessageBytes);
    this.#windowSec = options.createdAtWindowSec ?? WINDOWS.nodeMessageSec;
    this.#nowSec = options.nowSec ?? defaultNowSec;
    this.#verify = options.verify ?? verifyEvent;
    this.#logger = options.logger ?? silentLogger;
    this.#handlers = new HandlerSet(this.#logger);
    // Ids only need remembering while their events are inside the time window (either side).
    this.#seenEventIds = new BoundedTtlSet({
      maxEntries: options.maxDedupeEntries ?? DEFAULT_MAX_DEDUPE_ENTRIES,
      ttlMs: 2 * (this.#windowSec + 1) * 1000,
    });
    // Recomputed at each (re)subscription so `since` follows the clock.
    const filters = () => [{ kinds: [this.#kind], '#p': [this.selfPubkey], since: this.#nowSec() - this.#windowSec }];
    // The pool drops events it cannot verify (bad signature, or not even event-shaped); both are
    // unauthenticated input and count as `bad_sig` here.
    this.#subscription = this.#pool.subscribe(filters, (event) => this.#onEvent(event), {
      onInvalid: () => this.#drop('bad_sig', undefined),
      ...(options.liveOnlyAtStart ? { liveOnlyAtStart: true } : {}),
    });
  }

  async send(recipientPubkey: XOnlyPubkey, message: TOut, options: SendOptions = {}): Promise<void> {
    const json = this.#outbound([recipientPubkey], message);
    const event = this.#seal(this.#codec.encrypt(recipientPubkey, json), [recipientPubkey]);
    if (options.after !== undefined) await options.after;
    await this.#pool.publish(event);
  }

  /**
   * Delivers the same message to every recipient in one event when it fits: `p`-tagged to each,
   * its content a JSON array of one NIP-44 payload per recipient, in `p`-tag order. One signature,
   * one publish and one relay check instead of n (issue 9: the coordinator's round request goes to
   * every node). Larger messages, and a single recipient, go as separate events.
   */
  async sendToAll(recipientPubkeys: readonly XOnlyPubkey[], message: TOut, options: SendOptions = {}): Promise<void> {
    const recipients = [...new Set(recipientPubkeys)];
    const json = this.#outbound(recipients, message);
    const payloads = recipients.map((r) => this.#codec.encrypt(r, json));
    const content = JSON.stringify(payloads);
    // Receivers bound `content` before any ECDH by the single-message size; keep within it.
    const events =
      recipients.length < 2 || content.length > this.#maxContentChars
        ? recipients.map((r, i) => this.#seal(payloads[i] as string, [r]))
        : [this.#seal(content, recipients)];
    if (options.after !== undefined) await options.after;
    await Promise.all(events.map((event) => this.#pool.publish(event)));
  }

  /** Checks the transport, the recipients and the message; returns the message's JSON. */
  #outbound(recipients: readonly XOnlyPubkey[], message: TOut): string {
    if (this.#closed) throw new FrostbunkerError('INTERNAL', 'transport is closed');
    if (!recipients.every((r) => xOnlyPubkeySchema.safeParse(r).success)) {
      throw new ProtocolError('PROTOCOL_INVALID', 'recipientPubkey: expected 32-byte lower-case hex');
    }
    const json = JSON.stringify(message);
    if (json === undefined) throw new ProtocolError('PROTOCOL_INVALID', 'message is not JSON-serialisable');
    if (exceedsUtf8Bytes(json, this.#maxMessageBytes)) {
      throw new ProtocolError('PROTOCOL_TOO_LARGE', `message exceeds ${this.#maxMessageBytes} bytes`);
    }
    return json;
  }

  /** The signed carrying event, `p`-tagged to each recipient in order. */
  #seal(content: string, recipients: readonly XOnlyPubkey[]): NostrEvent {
    const tags = recipients.map((r) => ['p', r]);
    return finalizeEvent({ kind: this.#kind, content, tags, created_at: this.#nowSec() }, this.#secretKey);
  }

  onMessage(handler: (received: ReceivedMessage<TIn>) => void): () => void {
    if (this.#closed) return () => {};
    return this.#handlers.add(handler);
  }

  dropped(): Readonly<Partial<Record<DropReason, number>>> {
    return this.#drops.snapshot();
  }

  /** Unsubscribes and forgets handlers. The pool is not ours: its owner closes it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription.close();
    this.#handlers.clear();
    this.#seenEventIds.clear();
  }

  #onEvent(event: NostrEvent): void {
    if (this.#closed) return;
    let valid: boolean;
    try {
      valid = this.#verify(event);
    } catch {
      valid = false;
    }
    if (!valid) return this.#drop('bad_sig', event);
    if (event.kind !== this.#kind || !isAddressedTo(event, this.selfPubkey)) return this.#drop('not_for_us', event);
    const senderPubkey = xOnlyPubkeySchema.safeParse(event.pubkey);
    if (!senderPubkey.success || !this.#isKnownSender(senderPubkey.data)) return this.#drop('unknown_sender', event);
    if (event.content.length > this.#maxContentChars) return this.#drop('too_large', event);
    if (!isWithinWindow(event.created_at, this.#nowSec(), this.#windowSec)) return this.#drop('stale', event);
    if (!this.#seenEventIds.add(event.id)) return this.#drop('duplicate', event);
    const payload = ownPayload(event, this.selfPubkey);
    if (payload === undefined) return this.#drop('undecryptable', event);
    let json: string;
    try {
      json = this.#codec.decrypt(senderPubkey.data, payload);
    } catch {
      return this.#drop('undecryptable', event);
    }
    // The padded ciphertext bound above allows a little more than maxMessageBytes.
    if (exceedsUtf8Bytes(json, this.#maxMessageBytes)) return this.#drop('too_large', event);
    const decoded = decodeMessage(json, this.#schema);
    if (!decoded.ok) return this.#drop(decoded.reason, event);
    this.#handlers.emit({ senderPubkey: senderPubkey.data, message: decoded.message, createdAtSec: event.created_at, signedEvent: event });
  }

  #drop(reason: DropReason, event: NostrEvent | undefined): void {
    this.#drops.count(reason);
    this.#logger('debug', 'transport dropped event', { reason, eventId: event?.id, pubkey: event?.pubkey });
  }
}

/**
 * Our NIP-44 payload: the whole content, or, in an event for several recipients (`sendToAll`), the
 * element of the content's JSON array at our `p` tag's position. A NIP-44 payload is base64, so it
 * never starts with `[`.
 */
function ownPayload(event: NostrEvent, pubkey: string): string | undefined {
  if (!event.content.startsWith('[')) return event.content;
  const recipients = event.tags.filter((tag) => tag[0] === 'p').map((tag) => tag[1]);
  let payloads: unknown;
  try {
    payloads = JSON.parse(event.content);
  } catch {
    return undefined;
  }
  if (!Array.isArray(payloads) || payloads.length !== recipients.length) return undefined;
  const mine = payloads[recipients.indexOf(pubkey)];
  return typeof mine === 'string' ? mine : undefined;
}

function isAddressedTo(event: NostrEvent, pubkey: string): boolean {
  return event.tags.some((tag) => tag[0] === 'p' && tag[1] === pubkey);
}
