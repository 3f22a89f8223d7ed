import {
  createOutgoingOkMessage,
  EventType,
  EventUtils,
  MessageType,
  type BroadcastPlugin,
  type ClientContext,
  type Event,
  type HandleMessagePlugin,
  type HandleMessageResult,
  type IncomingMessage,
} from '@nostr-relay/common';
import { matchFilter, type Filter } from 'nostr-tools/filter';

export interface EphemeralRetentionOptions {
  /** How long a forwarded ephemeral event stays servable, counted from its arrival. */
  retentionSec: number;
  /** Hard cap on retained events; the oldest go first. */
  maxEvents: number;
  nowMs?: () => number;
}

/**
 * 120 s: a subscriber that reconnects within two minutes (a relay restart, a network blip) still
 * gets what was sent to it meanwhile; strfry keeps ephemeral events 300 s
 * (`ephemeralEventsLifetimeSeconds`). 10,000 events bound the memory at a few MB.
 */
export const DEFAULT_EPHEMERAL_RETENTION = { retentionSec: 120, maxEvents: 10_000 } as const;

/**
 * Keeps each ephemeral event the relay forwards (kinds 20000–29999, e.g. NIP-46 24133 and our node
 * protocol) for a short, bounded time and serves it to later REQs that match, as strfry does. It
 * closes the gap a restart or reconnect opens: an event sent after the relay came back but before
 * a subscriber had re-sent its REQ was forwarded to nobody. A REQ with `limit: 0` gets none of them
 * (NIP-01: no stored events), and a retained id sent again is answered `duplicate` without a second
 * broadcast (strfry does both).
 *
 * Registered as a relay plugin: `broadcast` retains, `handleMessage` answers duplicates.
 */
export class EphemeralRetention implements BroadcastPlugin, HandleMessagePlugin {
  /** Insertion order is arrival order, so expiry and eviction both take from the front. */
  readonly #events = new Map<string, { event: Event; expiresAtMs: number }>();
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #nowMs: () => number;

  constructor(options: EphemeralRetentionOptions) {
    if (!(options.retentionSec > 0)) throw new RangeError('retentionSec: expected a positive number');
    if (!Number.isSafeInteger(options.maxEvents) || options.maxEvents < 1) throw new RangeError('maxEvents: expected a positive integer');
    this.#retentionMs = options.retentionSec * 1000;
    this.#maxEvents = options.maxEvents;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  get size(): number {
    this.#expire();
    return this.#events.size;
  }

  has(eventId: string): boolean {
    this.#expire();
    return this.#events.has(eventId);
  }

  /** Retained events matching `filter`, in arrival order (the repository sorts and applies `limit`). */
  matching(filter: Filter): Event[] {
    this.#expire();
    const matches: Event[] = [];
    for (const { event } of this.#events.values()) {
      if (matchFilter(filter, event)) matches.push(event);
    }
    return matches;
  }

  async broadcast(event: Event, next: () => Promise<void>): Promise<void> {
    if (EventUtils.getType(event.kind) === EventType.EPHEMERAL) this.#retain(event);
    return next();
  }

  async handleMessage(ctx: ClientContext, message: IncomingMessage, next: () => Promise<HandleMessageResult>): Promise<HandleMessageResult> {
    if (message[0] !== MessageType.EVENT || !this.has(message[1].id)) return next();
    // NIP-01: a duplicate is accepted (`OK true`) with a `duplicate:` reason, and not broadcast again.
    const reason = 'duplicate: already have this event';
    ctx.sendMessage(createOutgoingOkMessage(message[1].id, true, reason));
    return { messageType: MessageType.EVENT, success: true, message: reason };
  }

  clear(): void {
    this.#events.clear();
  }

  #retain(event: Event): void {
    this.#expire();
    if (this.#events.has(event.id)) return;
    this.#events.set(event.id, { event, expiresAtMs: this.#nowMs() + this.#retentionMs });
    while (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next();
      if (oldest.done === true) break;
      this.#events.delete(oldest.value);
    }
  }

  #expire(): void {
    const now = this.#nowMs();
    for (const [id, { expiresAtMs }] of this.#events) {
      if (expiresAtMs > now) return;
      this.#events.delete(id);
    }
  }
}
