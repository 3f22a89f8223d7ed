import type { z } from 'zod';
import { getPublicKey } from 'nostr-tools/pure';
import { FrostbunkerError, ProtocolError } from '../errors.js';
import { xOnlyPubkeySchema, type XOnlyPubkey } from '../protocol/brands.js';
import { LIMITS, WINDOWS } from '../protocol/limits.js';
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
import type { DropReason, ReceivedMessage, SendOptions, Transport } from './transport.js';

/**
 * Fault hooks for tests. Each predicate sees one message (as sent) on its way from `from` to `to`.
 * `drop` wins over `duplicate`.
 */
export interface MemoryFault {
  drop?: (from: XOnlyPubkey, to: XOnlyPubkey, message: unknown) => boolean;
  duplicate?: (from: XOnlyPubkey, to: XOnlyPubkey, message: unknown) => boolean;
}

type MemoryIdentity = { secretKey: Uint8Array; pubkey?: undefined } | { pubkey: XOnlyPubkey; secretKey?: undefined };

export type MemoryTransportOptions<TIn> = MemoryIdentity & {
  /** Inbound messages must parse with this schema. */
  schema: z.ZodType<TIn>;
  isKnownSender: (pubkey: XOnlyPubkey) => boolean;
  /** Default `LIMITS.nodeMessageBytes`, as the relay transport. */
  maxMessageBytes?: number;
  /** Default 60 s, as the relay transport. */
  createdAtWindowSec?: number;
  nowSec?: () => number;
  maxDedupeEntries?: number;
  logger?: TransportLogger;
};

export interface MemoryNetworkStats {
  sent: number;
  /** Copies handed to a recipient endpoint (duplicates count twice). */
  delivered: number;
  droppedByFault: number;
  duplicatedByFault: number;
  /** Open transports on the network (closed ones detach). */
  attached: number;
}

export interface MemoryNetwork {
  /** `TIn` is what this endpoint accepts (its schema), `TOut` what it sends. */
  transport<TIn, TOut = TIn>(options: MemoryTransportOptions<TIn>): Transport<TIn, TOut>;
  /** Replaces the fault hooks; `null` clears them. */
  setFault(fault: MemoryFault | null): void;
  stats(): Readonly<MemoryNetworkStats>;
}

/** What travels on the in-memory wire: the JSON text, as the relay carries encrypted JSON. */
interface MemoryEnvelope {
  /** Plays the role of the event id: unique per send, identical across duplicated copies. */
  readonly messageId: string;
  readonly from: XOnlyPubkey;
  readonly to: XOnlyPubkey;
  readonly json: string;
  readonly createdAtSec: number;
}

interface MemoryEndpoint {
  receive(envelope: MemoryEnvelope): void;
}

const DEFAULT_MAX_DEDUPE_ENTRIES = 10_000;

/**
 * An in-memory network of `Transport`s for deterministic protocol tests (DESIGN.md: "an
 * in-memory transport with the same interface"). Delivery is asynchronous (a microtask), goes
 * through a JSON round trip and the same size, window, dedupe and schema checks as the relay
 * transport, so drops are counted the same way. Senders are authenticated by construction.
 *
 * @example
 * const network = createMemoryNetwork();
 * const node = network.transport({ secretKey, schema, isKnownSender: (p) => p === coordinatorPubkey });
 */
export function createMemoryNetwork(): MemoryNetwork {
  const endpoints = new Map<XOnlyPubkey, Set<MemoryEndpoint>>();
  const stats: Omit<MemoryNetworkStats, 'attached'> = { sent: 0, delivered: 0, droppedByFault: 0, duplicatedByFault: 0 };
  let fault: MemoryFault | null = null;
  let nextMessageNumber = 0;

  const route = (envelope: MemoryEnvelope, message: unknown): void => {
    stats.sent += 1;
    if (fault?.drop?.(envelope.from, envelope.to, message) === true) {
      stats.droppedByFault += 1;
      return;
    }
    let copies = 1;
    if (fault?.duplicate?.(envelope.from, envelope.to, message) === true) {
      stats.duplicatedByFault += 1;
      copies = 2;
    }
    for (let i = 0; i < copies; i += 1) {
      queueMicrotask(() => {
        for (const endpoint of [...(endpoints.get(envelope.to) ?? [])]) {
          stats.delivered += 1;
          endpoint.receive(envelope);
        }
      });
    }
  };

  return {
    transport<TIn, TOut = TIn>(options: MemoryTransportOptions<TIn>): Transport<TIn, TOut> {
      const selfPubkey =
        options.secretKey !== undefined
          ? xOnlyPubkeySchema.parse(getPublicKey(options.secretKey))
          : xOnlyPubkeySchema.parse(options.pubkey);
      const transport = new MemoryTransport<TIn, TOut>(selfPubkey, options, {
        nextMessageId: () => {
          nextMessageNumber += 1;
          return `m${nextMessageNumber}`;
        },
        route,
        detach: (endpoint) => {
          const set = endpoints.get(selfPubkey);
          set?.delete(endpoint);
          if (set?.size === 0) endpoints.delete(selfPubkey);
        },
      });
      let set = endpoints.get(selfPubkey);
      if (set === undefined) {
        set = new Set();
        endpoints.set(selfPubkey, set);
      }
      set.add(transport);
      return transport;
    },
    setFault(next) {
      fault = next;
    },
    stats: () => {
      let attached = 0;
      for (const set of endpoints.values()) attached += set.size;
      return { ...stats, attached };
    },
  };
}

interface MemoryWire {
  nextMessageId(): string;
  route(envelope: MemoryEnvelope, message: unknown): void;
  detach(endpoint: MemoryEndpoint): void;
}

class MemoryTransport<TIn, TOut> implements Transport<TIn, TOut>, MemoryEndpoint {
  readonly selfPubkey: XOnlyPubkey;
  readonly #wire: MemoryWire;
  readonly #schema: z.ZodType<TIn>;
  readonly #isKnownSender: (pubkey: XOnlyPubkey) => boolean;
  readonly #maxMessageBytes: number;
  readonly #windowSec: number;
  readonly #nowSec: () => number;
  readonly #logger: TransportLogger;
  readonly #seenMessageIds: BoundedTtlSet;
  readonly #drops = new DropCounter();
  readonly #handlers: HandlerSet<TIn>;
  #closed = false;

  constructor(selfPubkey: XOnlyPubkey, options: MemoryTransportOptions<TIn>, wire: MemoryWire) {
    this.selfPubkey = selfPubkey;
    this.#wire = wire;
    this.#schema = options.schema;
    this.#isKnownSender = options.isKnownSender;
    this.#maxMessageBytes = options.maxMessageBytes ?? LIMITS.nodeMessageBytes;
    this.#windowSec = options.createdAtWindowSec ?? WINDOWS.nodeMessageSec;
    this.#nowSec = options.nowSec ?? defaultNowSec;
    this.#logger = options.logger ?? silentLogger;
    this.#handlers = new HandlerSet(this.#logger);
    this.#seenMessageIds = new BoundedTtlSet({
      maxEntries: options.maxDedupeEntries ?? DEFAULT_MAX_DEDUPE_ENTRIES,
      ttlMs: 2 * (this.#windowSec + 1) * 1000,
    });
  }

  async send(recipientPubkey: XOnlyPubkey, message: TOut, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new FrostbunkerError('INTERNAL', 'transport is closed');
    if (!xOnlyPubkeySchema.safeParse(recipientPubkey).success) {
      throw new ProtocolError('PROTOCOL_INVALID', 'recipientPubkey: expected 32-byte lower-case hex');
    }
    const json = JSON.stringify(message);
    if (json === undefined) throw new ProtocolError('PROTOCOL_INVALID', 'message is not JSON-serialisable');
    if (exceedsUtf8Bytes(json, this.#maxMessageBytes)) {
      throw new ProtocolError('PROTOCOL_TOO_LARGE', `message exceeds ${this.#maxMessageBytes} bytes`);
    }
    if (options.after !== undefined) await options.after;
    this.#wire.route(
      {
        messageId: this.#wire.nextMessageId(),
        from: this.selfPubkey,
        to: recipientPubkey,
        json,
        createdAtSec: this.#nowSec(),
      },
      message,
    );
  }

  onMessage(handler: (received: ReceivedMessage<TIn>) => void): () => void {
    if (this.#closed) return () => {};
    return this.#handlers.add(handler);
  }

  dropped(): Readonly<Partial<Record<DropReason, number>>> {
    return this.#drops.snapshot();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wire.detach(this);
    this.#handlers.clear();
    this.#seenMessageIds.clear();
  }

  /** Same order as `RelayTransport` minus the steps the memory wire makes moot (signature, p-tag, decrypt). */
  receive(envelope: MemoryEnvelope): void {
    if (this.#closed) return;
    if (!this.#isKnownSender(envelope.from)) return this.#drop('unknown_sender', envelope);
    if (exceedsUtf8Bytes(envelope.json, this.#maxMessageBytes)) return this.#drop('too_large', envelope);
    if (!isWithinWindow(envelope.createdAtSec, this.#nowSec(), this.#windowSec)) return this.#drop('stale', envelope);
    if (!this.#seenMessageIds.add(envelope.messageId)) return this.#drop('duplicate', envelope);
    const decoded = decodeMessage(envelope.json, this.#schema);
    if (!decoded.ok) return this.#drop(decoded.reason, envelope);
    this.#handlers.emit({ senderPubkey: envelope.from, message: decoded.message, createdAtSec: envelope.createdAtSec });
  }

  #drop(reason: DropReason, envelope: MemoryEnvelope): void {
    this.#drops.count(reason);
    this.#logger('debug', 'transport dropped message', { reason, messageId: envelope.messageId, from: envelope.from });
  }
}
