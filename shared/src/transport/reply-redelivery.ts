import * as nip04 from 'nostr-tools/nip04';
import { getPublicKey } from 'nostr-tools/pure';
import type { NostrEvent } from '../nostr/event.js';
import { finalizeEvent } from '../nostr/event-signer.js';
import { KIND_NIP46 } from '../nostr/kinds.js';
import { createNip44Codec, type Nip44Codec } from '../nostr/nip44.js';
import { silentLogger, type TransportLogger } from './logger.js';
import type { RelayPool, RelayPoolPort } from './relay-pool.js';

export interface ReplyRedeliveryOptions {
  pool: Pick<RelayPool, 'subscribe' | 'publish' | 'recentlyChurned'>;
  /** The NIP-46 transport key the replies are signed with (it also reads them back, to skip `auth_url`). */
  secretKey: Uint8Array;
  /**
   * Delay of each copy. Default 11 s: nostr-tools (2.25) re-sends its REQ only when the relay object
   * that holds it reconnects on its own timer, 10 s after the drop (INTEROP.md).
   */
  afterMs?: number;
  /** A reply is at risk when a relay dropped or came back this recently. Default 15 s. */
  churnWindowMs?: number;
  /** Copies per reply at most. Default 2 (one more outage while the first copy waits). */
  maxCopies?: number;
  /** Copies waiting at most; beyond, replies go out once. Default 1,000. */
  maxPending?: number;
  logger?: TransportLogger;
  nowMs?: () => number;
}

/**
 * The NIP-46 endpoint's view of the relay pool (RELIABILITY.md G2, reply direction): a final reply
 * published while a relay is restarting, or just after, is published again later as a new event
 * (same encrypted content and tags, fresh `created_at` and signature), so a client whose
 * subscription was not back yet still gets it. Relays do not help here: they drop a repeated id,
 * and nostr-tools' BunkerSigner subscribes with `limit: 0`, so a retained reply is never served to
 * it. Clients answer a request id once and ignore copies; an interim `auth_url` reply is never
 * copied, because nostr-tools would take a second one as the request's error.
 */
export class ReplyRedelivery implements RelayPoolPort {
  readonly #pool: ReplyRedeliveryOptions['pool'];
  readonly #secretKey: Uint8Array;
  readonly #pubkey: string;
  readonly #codec: Nip44Codec;
  readonly #afterMs: number;
  readonly #churnWindowMs: number;
  readonly #maxCopies: number;
  readonly #maxPending: number;
  readonly #logger: TransportLogger;
  readonly #nowMs: () => number;
  readonly #pending = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: ReplyRedeliveryOptions) {
    this.#pool = options.pool;
    this.#secretKey = options.secretKey;
    this.#pubkey = getPublicKey(options.secretKey);
    this.#codec = createNip44Codec(options.secretKey);
    this.#afterMs = options.afterMs ?? 11_000;
    this.#churnWindowMs = options.churnWindowMs ?? 15_000;
    this.#maxCopies = options.maxCopies ?? 2;
    this.#maxPending = options.maxPending ?? 1_000;
    this.#logger = options.logger ?? silentLogger;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** Copies waiting to go out. */
  get pending(): number {
    return this.#pending.size;
  }

  subscribe(...args: Parameters<RelayPoolPort['subscribe']>): ReturnType<RelayPoolPort['subscribe']> {
    return this.#pool.subscribe(...args);
  }

  publish(event: NostrEvent): ReturnType<RelayPoolPort['publish']> {
    const published = this.#pool.publish(event);
    if (this.#pool.recentlyChurned(this.#churnWindowMs) && this.#isFinalReply(event)) this.#copyLater(event, 1);
    return published;
  }

  /** Drops the copies not sent yet. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }

  #copyLater(event: NostrEvent, copy: number): void {
    if (this.#closed || copy > this.#maxCopies || this.#pending.size >= this.#maxPending) return;
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      const again = finalizeEvent(
        { kind: event.kind, content: event.content, tags: event.tags, created_at: Math.floor(this.#nowMs() / 1000) },
        this.#secretKey,
      );
      this.#logger('debug', 'nip46 reply published again after relay churn', { eventId: again.id, copy });
      this.#pool.publish(again).catch((error: unknown) => {
        this.#logger('warn', 'nip46 reply copy not published', { eventId: again.id, error: String(error) });
      });
      if (this.#pool.recentlyChurned(this.#churnWindowMs)) this.#copyLater(event, copy + 1);
    }, this.#afterMs);
    this.#pending.add(timer);
  }

  #isFinalReply(event: NostrEvent): boolean {
    if (event.kind !== KIND_NIP46 || event.pubkey !== this.#pubkey) return false;
    const client = event.tags.find((tag) => tag[0] === 'p')?.[1];
    if (client === undefined) return false;
    try {
      // The endpoint answers in the request's scheme: NIP-04 payloads carry `?iv=`.
      const plaintext = event.content.includes('?iv=') ? nip04.decrypt(this.#secretKey, client, event.content) : this.#codec.decrypt(client, event.content);
      const reply = JSON.parse(plaintext) as { result?: unknown };
      return reply.result !== 'auth_url';
    } catch {
      return false;
    }
  }
}
