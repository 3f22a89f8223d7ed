import { WebSocket } from 'ws';
import { ConfigError, FrostbunkerError } from '../errors.js';
import { nostrEventSchema, type Filter, type NostrEvent } from '../nostr/event.js';
import { assertEventSignerReady, verifyEvent } from '../nostr/event-signer.js';
import { BoundedTtlSet } from './bounded-ttl-set.js';
import { silentLogger, type TransportLogger } from './logger.js';
import { PublishTracker, type PublishResult } from './publish-tracker.js';
import {
  RelayConnection,
  type BackoffMs,
  type RelayConnectionHealth,
  type WebSocketConstructor,
} from './relay-connection.js';
import { isProbeEvent, SubscriptionProbe } from './subscription-probe.js';

export type { BackoffMs, WebSocketConstructor } from './relay-connection.js';
export { PublishError, type PublishRejection, type PublishResult } from './publish-tracker.js';

export interface RelayPoolOptions {
  /** Relay URLs (`ws://` or `wss://`); one connection each. */
  urls: readonly string[];
  /** WebSocket implementation; default `ws` (Node 20 has no global WebSocket). */
  WebSocket?: WebSocketConstructor;
  /**
   * Reconnect backoff, doubled per consecutive failure. Default 0.5 s → 2 s: RELIABILITY.md G2 wants
   * a restarted relay resubscribed within 2 s (requests a client publishes before that are lost,
   * kind 24133 being ephemeral), which §4's 1 s → 8 s cannot give after a few failed attempts.
   */
  backoffMs?: BackoffMs;
  /**
   * How long `publish` waits for a relay to connect and answer `OK`. Default 15 s: a reply finished
   * while the only relay restarts must outlive the outage plus the reconnect backoff, or the client
   * hears nothing; strfry still accepts an ephemeral event up to 60 s old.
   */
  publishTimeoutMs?: number;
  /** WebSocket handshake timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** Dead-socket ping interval (a missing pong by the next tick terminates); 0 disables. Default 20 s. */
  pingIntervalMs?: number;
  /**
   * Subscription probe (RELIABILITY.md §2.3 "Silent subscription death"): this often, each live
   * subscription gets an ephemeral event matching its filters, signed by a throw-away key, on each
   * relay; one that has not come back by the next round marks the relay degraded and reconnects it.
   * 0 disables. Default 10 s (RELIABILITY.md §4), so a dead subscription is found within 20 s.
   */
  probeIntervalMs?: number;
  /** Largest inbound frame accepted. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Cap on concurrent subscriptions. Default 64. */
  maxSubscriptions?: number;
  /** Cap on publishes awaiting `OK`. Default 1,024. */
  maxPendingPublishes?: number;
  /** Cross-relay dedupe of delivered events. Default 10,000 entries, 10 minutes. */
  seenCache?: { maxEntries: number; ttlMs: number };
  logger?: TransportLogger;
  /**
   * Event signature check. Default `verifyEvent` of `../nostr/event-signer` (id hash and BIP-340
   * signature, libsecp256k1), which needs `initEventSigner()` to have resolved before construction.
   */
  verify?: (event: NostrEvent) => boolean;
  /** Jitter source for backoff. Default `Math.random`. */
  random?: () => number;
  /** Wall clock, ms. Default `Date.now`. */
  nowMs?: () => number;
}

/** Per-relay health (DESIGN.md: the relay client "reports per-relay health"). */
export interface RelayHealth extends RelayConnectionHealth {
  /** Subscriptions this relay has confirmed with EOSE on the current connection. */
  liveSubscriptions: number;
  /** Latest `OK false` or `CLOSED` reason from this relay. */
  lastRejection: string | null;
  /** A subscription probe went unanswered and no later probe has come back yet. */
  degraded: boolean;
  /** Subscription probes this relay accepted but never delivered, since start. */
  probeMisses: number;
}

/** Why an event from a relay was dropped before reaching the subscriber. */
export type InvalidEventReason = 'bad_sig' | 'malformed';

export interface SubscribeOptions {
  /** Told about each event dropped for an invalid signature or shape, so callers can count it. */
  onInvalid?: (reason: InvalidEventReason, relayUrl: string) => void;
  /**
   * The first REQ to each relay asks for new events only (NIP-01 `limit: 0`); later ones (after a
   * reconnect) ask for the filters' history too, to catch what arrived while the socket was down.
   * For a process whose earlier life already answered what a relay keeps (a restarted share node):
   * stored events are replays of sessions and ceremonies that are over, and relays serve them
   * newest first, so a replayed ceremony would outrun its own abort.
   */
  liveOnlyAtStart?: boolean;
}

export interface PoolSubscription {
  close(): void;
}

export interface RelayPoolCounters {
  /** Events whose id or signature did not verify. */
  invalidSignature: number;
  /** EVENT frames whose event did not have the NIP-01 shape. */
  malformedEvent: number;
  /** Events already delivered to the same subscription (same id from another relay, or again). */
  duplicateEvent: number;
  /** Frames dropped unread: oversize, binary, not JSON, or not a NIP-01 message. */
  badFrame: number;
}

/** Subset of the pool a transport needs; lets tests and simulations substitute their own. */
export type RelayPoolPort = Pick<RelayPool, 'subscribe' | 'publish'>;

interface SubscriptionState {
  readonly subscriptionId: string;
  readonly filters: () => Filter[];
  readonly onEvent: (event: NostrEvent, relayUrl: string) => void;
  readonly onInvalid: ((reason: InvalidEventReason, relayUrl: string) => void) | undefined;
  /** Relays that sent EOSE for this subscription on their current connection. */
  readonly live: Set<string>;
  /** With `liveOnlyAtStart`: relays that got this subscription's REQ before (later REQs ask for history). */
  readonly requested: Set<string> | undefined;
  readonly retryTimers: Map<string, NodeJS.Timeout>;
  readonly retryAttempts: Map<string, number>;
}

interface ConnectWaiter {
  readonly minConnected: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULTS = {
  backoffMs: { initial: 500, max: 2_000 },
  publishTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  pingIntervalMs: 20_000,
  probeIntervalMs: 10_000,
  maxFrameBytes: 1024 * 1024,
  maxSubscriptions: 64,
  maxPendingPublishes: 1_024,
  seenCache: { maxEntries: 10_000, ttlMs: 10 * 60_000 },
  maxConnectWaiters: 1_024,
} as const;

/**
 * Our own Nostr relay client over `ws`: one self-healing connection per URL (connects at
 * construction, retries forever with backoff, re-sends every active REQ after a reconnect),
 * cross-relay dedupe, signature verification, `OK`-aware publishing, and a subscription probe that
 * replaces a socket that stopped delivering (`subscription-probe.ts`). Everything it holds is
 * bounded. nostr-tools' SimplePool is not used: RELIABILITY.md finding 2.
 *
 * @example
 * await initEventSigner(); // once per process, from `../nostr`
 * const pool = new RelayPool({ urls: ['ws://127.0.0.1:7777'] });
 * const sub = pool.subscribe([{ kinds: [KIND_FROSTBUNKER_NODE], '#p': [selfPubkey] }], onEvent);
 * await pool.publish(signedEvent);
 */
export class RelayPool {
  readonly #connections: RelayConnection[];
  readonly #subscriptions = new Map<string, SubscriptionState>();
  readonly #publishes: PublishTracker;
  readonly #waiters = new Set<ConnectWaiter>();
  readonly #lastRejection = new Map<string, string>();
  readonly #seen: BoundedTtlSet;
  readonly #logger: TransportLogger;
  readonly #verify: (event: NostrEvent) => boolean;
  readonly #backoffMs: BackoffMs;
  readonly #maxSubscriptions: number;
  readonly #counters: RelayPoolCounters = { invalidSignature: 0, malformedEvent: 0, duplicateEvent: 0, badFrame: 0 };
  readonly #nowMs: () => number;
  /** Relays whose subscriptions are not all confirmed since the socket opened, with the open time. */
  readonly #resubscribing = new Map<string, number>();
  readonly #probe: SubscriptionProbe;
  /** When a relay connection last dropped or came back (`recentlyChurned`). */
  #lastChurnAtMs = Number.NEGATIVE_INFINITY;
  #nextSubscriptionNumber = 0;
  #closePromise: Promise<void> | null = null;

  constructor(options: RelayPoolOptions) {
    if (options.verify === undefined) assertEventSignerReady();
    const urls = [...new Set(options.urls)];
    if (urls.length === 0) throw new ConfigError('urls', 'at least one relay URL is required');
    for (const url of urls) assertRelayUrl(url);
    this.#backoffMs = options.backoffMs ?? DEFAULTS.backoffMs;
    if (!(this.#backoffMs.initial > 0) || !(this.#backoffMs.max >= this.#backoffMs.initial)) {
      throw new ConfigError('backoffMs', 'expected 0 < initial <= max');
    }
    this.#maxSubscriptions = positive('maxSubscriptions', options.maxSubscriptions ?? DEFAULTS.maxSubscriptions);
    this.#logger = options.logger ?? silentLogger;
    this.#publishes = new PublishTracker({
      timeoutMs: positive('publishTimeoutMs', options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs),
      maxPending: positive('maxPendingPublishes', options.maxPendingPublishes ?? DEFAULTS.maxPendingPublishes),
      logger: this.#logger,
      onRejected: (url, reason) => this.#lastRejection.set(url, reason),
    });
    this.#verify = options.verify ?? verifyEvent;
    const nowMs = options.nowMs ?? Date.now;
    this.#nowMs = nowMs;
    this.#seen = new BoundedTtlSet({ ...(options.seenCache ?? DEFAULTS.seenCache), nowMs });
    const probeIntervalMs = options.probeIntervalMs ?? DEFAULTS.probeIntervalMs;
    if (!(probeIntervalMs >= 0) || !Number.isFinite(probeIntervalMs)) {
      throw new ConfigError('probeIntervalMs', 'expected 0 (off) or a positive number');
    }

    this.#connections = urls.map(
      (url) =>
        new RelayConnection({
          url,
          WebSocket: options.WebSocket ?? WebSocket,
          backoffMs: this.#backoffMs,
          connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs),
          pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
          maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes ?? DEFAULTS.maxFrameBytes),
          logger: this.#logger,
          random: options.random ?? Math.random,
          nowMs,
          onOpen: (connection) => this.#onOpen(connection),
          onFrame: (connection, frame) => this.#onFrame(connection, frame),
          onRejectedFrame: (connection, reason) => {
            this.#counters.badFrame += 1;
            this.#logger('warn', 'relay frame dropped', { url: connection.url, reason });
          },
          onClose: (connection) => this.#onClose(connection),
        }),
    );
    this.#probe = new SubscriptionProbe({
      intervalMs: probeIntervalMs,
      connections: this.#connections,
      liveSubscriptions: (url) => [...this.#subscriptions.values()].filter((subscription) => subscription.live.has(url)),
      onRefused: (url, reason) => this.#lastRejection.set(url, reason),
      logger: this.#logger,
      nowMs,
    });
    if (probeIntervalMs > 0) {
      assertEventSignerReady();
      this.#probe.start();
    }
    for (const connection of this.#connections) connection.start();
  }

  /**
   * Sends a REQ to every relay (again after each reconnect) and calls `onEvent` at most once per
   * event id, only for events whose signature verifies. `filters` may be a function, evaluated at
   * each REQ, so a `since` stays relative to the time of the (re)subscription.
   */
  subscribe(
    filters: Filter[] | (() => Filter[]),
    onEvent: (event: NostrEvent, relayUrl: string) => void,
    options: SubscribeOptions = {},
  ): PoolSubscription {
    this.#assertOpen();
    if (this.#subscriptions.size >= this.#maxSubscriptions) {
      throw new FrostbunkerError('INTERNAL', `relay pool: more than ${this.#maxSubscriptions} subscriptions`);
    }
    this.#nextSubscriptionNumber += 1;
    const subscription: SubscriptionState = {
      subscriptionId: `fb-${this.#nextSubscriptionNumber.toString(36)}`,
      filters: typeof filters === 'function' ? filters : () => filters,
      onEvent,
      onInvalid: options.onInvalid,
      live: new Set(),
      requested: options.liveOnlyAtStart ? new Set() : undefined,
      retryTimers: new Map(),
      retryAttempts: new Map(),
    };
    this.#subscriptions.set(subscription.subscriptionId, subscription);
    for (const connection of this.#connections) this.#sendReq(connection, subscription);
    return { close: () => this.#closeSubscription(subscription) };
  }

  /**
   * Publishes to every relay, including those that connect within the timeout. Resolves as soon as
   * one relay answers `OK true`; rejects with a `PublishError` naming each relay's reason if none
   * does within `publishTimeoutMs` (or all refuse sooner).
   */
  publish(event: NostrEvent): Promise<PublishResult> {
    if (this.#closePromise !== null) return Promise.reject(closedError());
    return this.#publishes.publish(event, this.#connections);
  }

  health(): RelayHealth[] {
    return this.#connections.map((connection) => {
      let liveSubscriptions = 0;
      for (const subscription of this.#subscriptions.values()) {
        if (subscription.live.has(connection.url)) liveSubscriptions += 1;
      }
      return {
        ...connection.health(),
        liveSubscriptions,
        lastRejection: this.#lastRejection.get(connection.url) ?? null,
        degraded: this.#probe.isDegraded(connection.url),
        probeMisses: this.#probe.misses(connection.url),
      };
    });
  }

  counters(): Readonly<RelayPoolCounters> {
    return { ...this.#counters };
  }

  /**
   * True if a relay connection dropped, or came back after a drop, within the last `withinMs`: the
   * window in which peers' subscriptions on that relay may not be back yet (their reconnect timers
   * are not ours). A relay that never connects does not count, so a dead one does not keep it true.
   */
  recentlyChurned(withinMs: number): boolean {
    return this.#nowMs() - this.#lastChurnAtMs <= withinMs;
  }

  /** Resolves once at least `minConnected` relays are connected; rejects with `TIMEOUT` after `timeoutMs`. */
  waitUntilConnected(timeoutMs: number, minConnected = 1): Promise<void> {
    if (this.#closePromise !== null) return Promise.reject(closedError());
    if (this.#connectedCount() >= minConnected) return Promise.resolve();
    if (this.#waiters.size >= DEFAULTS.maxConnectWaiters) {
      return Promise.reject(new FrostbunkerError('INTERNAL', 'relay pool: too many waiters'));
    }
    return new Promise((resolve, reject) => {
      const waiter: ConnectWaiter = {
        minConnected,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new FrostbunkerError(
              'TIMEOUT',
              `relay pool: fewer than ${minConnected} relay(s) connected after ${timeoutMs} ms (${this.#describeErrors()})`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Closes every socket for good: no reconnect, all timers cleared, pending work rejected. */
  close(): Promise<void> {
    if (this.#closePromise !== null) return this.#closePromise;
    this.#probe.close();
    for (const subscription of this.#subscriptions.values()) clearRetryTimers(subscription);
    this.#subscriptions.clear();
    this.#publishes.close(closedError());
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError());
    }
    this.#waiters.clear();
    this.#seen.clear();
    this.#closePromise = Promise.all(this.#connections.map((connection) => connection.close())).then(() => {});
    return this.#closePromise;
  }

  #onOpen(connection: RelayConnection): void {
    if (connection.health().reconnects > 0) this.#lastChurnAtMs = this.#nowMs();
    if (this.#subscriptions.size > 0) this.#resubscribing.set(connection.url, this.#nowMs());
    for (const subscription of this.#subscriptions.values()) this.#sendReq(connection, subscription);
    this.#publishes.onOpen(connection);
    const connected = this.#connectedCount();
    for (const waiter of [...this.#waiters]) {
      if (connected >= waiter.minConnected) {
        clearTimeout(waiter.timer);
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  #onClose(connection: RelayConnection): void {
    this.#lastChurnAtMs = this.#nowMs();
    this.#resubscribing.delete(connection.url);
    this.#probe.onClose(connection.url);
    for (const subscription of this.#subscriptions.values()) {
      subscription.live.delete(connection.url);
      clearRetryTimer(subscription, connection.url);
    }
    this.#publishes.onClose(connection);
  }

  #onFrame(connection: RelayConnection, frame: string): void {
    let message: unknown;
    try {
      message = JSON.parse(frame);
    } catch {
      this.#counters.badFrame += 1;
      return;
    }
    if (!Array.isArray(message) || typeof message[0] !== 'string') {
      this.#counters.badFrame += 1;
      return;
    }
    const url = connection.url;
    // NIP-01 relay-to-client messages.
    switch (message[0]) {
      case 'EVENT':
        this.#onEventMessage(url, message[1], message[2]);
        return;
      case 'OK':
        if (typeof message[1] === 'string' && this.#probe.onOk(url, message[1], message[2], message[3])) return;
        this.#publishes.onOk(url, message[1], message[2], message[3]);
        return;
      case 'EOSE': {
        const subscription = typeof message[1] === 'string' ? this.#subscriptions.get(message[1]) : undefined;
        if (subscription !== undefined) {
          subscription.live.add(url);
          subscription.retryAttempts.delete(url);
          this.#checkResubscribed(connection);
        }
        return;
      }
      case 'CLOSED':
        this.#onClosedMessage(connection, message[1], message[2]);
        return;
      case 'NOTICE':
        this.#logger('warn', 'relay notice', { url, notice: String(message[1]).slice(0, 300) });
        return;
      default:
        // AUTH (NIP-42) and unknown types: we neither authenticate nor fail on them.
        this.#logger('debug', 'relay message ignored', { url, type: message[0].slice(0, 32) });
    }
  }

  #onEventMessage(url: string, subscriptionId: unknown, rawEvent: unknown): void {
    const subscription = typeof subscriptionId === 'string' ? this.#subscriptions.get(subscriptionId) : undefined;
    if (subscription === undefined) return; // closed meanwhile, or a subscription we never made
    const parsed = nostrEventSchema.safeParse(rawEvent);
    if (!parsed.success) {
      this.#counters.malformedEvent += 1;
      notifyInvalid(subscription, 'malformed', url);
      return;
    }
    const event: NostrEvent = parsed.data;
    if (isProbeEvent(event)) {
      this.#probe.onEvent(url, subscription.subscriptionId, event.id);
      return;
    }
    const seenKey = `${subscription.subscriptionId}:${event.id}`;
    if (this.#seen.has(seenKey)) {
      this.#counters.duplicateEvent += 1;
      return;
    }
    // Verify before marking as seen: a forged copy arriving first must not shadow the real event.
    let valid: boolean;
    try {
      valid = this.#verify(event);
    } catch {
      valid = false;
    }
    if (!valid) {
      this.#counters.invalidSignature += 1;
      notifyInvalid(subscription, 'bad_sig', url);
      return;
    }
    this.#seen.add(seenKey);
    try {
      subscription.onEvent(event, url);
    } catch (error) {
      this.#logger('error', 'subscription handler threw', {
        subscriptionId: subscription.subscriptionId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #onClosedMessage(connection: RelayConnection, subscriptionId: unknown, reason: unknown): void {
    const subscription = typeof subscriptionId === 'string' ? this.#subscriptions.get(subscriptionId) : undefined;
    if (subscription === undefined) return;
    const url = connection.url;
    const reasonText = typeof reason === 'string' ? reason.slice(0, 300) : '';
    subscription.live.delete(url);
    this.#lastRejection.set(url, reasonText);
    clearRetryTimer(subscription, url);
    const attempts = subscription.retryAttempts.get(url) ?? 0;
    subscription.retryAttempts.set(url, attempts + 1);
    const delayMs = Math.min(this.#backoffMs.max, this.#backoffMs.initial * 2 ** Math.min(attempts, 30));
    this.#logger('warn', 'relay closed subscription; resubscribing', {
      url,
      subscriptionId: subscription.subscriptionId,
      reason: reasonText,
      delayMs,
    });
    subscription.retryTimers.set(
      url,
      setTimeout(() => {
        subscription.retryTimers.delete(url);
        if (this.#subscriptions.get(subscription.subscriptionId) === subscription) {
          this.#sendReq(connection, subscription);
        }
      }, delayMs),
    );
  }

  #sendReq(connection: RelayConnection, subscription: SubscriptionState): void {
    if (!connection.connected) return;
    subscription.live.delete(connection.url);
    this.#probe.onReq(connection.url, subscription.subscriptionId);
    let filters = subscription.filters();
    if (subscription.requested !== undefined && !subscription.requested.has(connection.url)) {
      subscription.requested.add(connection.url);
      filters = filters.map((filter) => ({ ...filter, limit: 0 }));
    }
    connection.send(JSON.stringify(['REQ', subscription.subscriptionId, ...filters]));
  }

  /** Logs how long a (re)connected relay took to confirm every subscription (G1/G2 figures). */
  #checkResubscribed(connection: RelayConnection): void {
    const openedAtMs = this.#resubscribing.get(connection.url);
    if (openedAtMs === undefined) return;
    for (const subscription of this.#subscriptions.values()) {
      if (!subscription.live.has(connection.url)) return;
    }
    this.#resubscribing.delete(connection.url);
    this.#logger('info', 'relay subscriptions live', {
      url: connection.url,
      reconnects: connection.health().reconnects,
      subscriptions: this.#subscriptions.size,
      ms: this.#nowMs() - openedAtMs,
    });
    this.#probe.onResubscribed(connection);
  }

  #closeSubscription(subscription: SubscriptionState): void {
    if (this.#subscriptions.get(subscription.subscriptionId) !== subscription) return;
    this.#subscriptions.delete(subscription.subscriptionId);
    clearRetryTimers(subscription);
    subscription.live.clear();
    const frame = JSON.stringify(['CLOSE', subscription.subscriptionId]);
    for (const connection of this.#connections) connection.send(frame);
  }

  #connectedCount(): number {
    return this.#connections.filter((connection) => connection.connected).length;
  }

  #describeErrors(): string {
    return this.#connections.map((c) => `${c.url}: ${c.health().lastError ?? 'connecting'}`).join('; ');
  }

  #assertOpen(): void {
    if (this.#closePromise !== null) throw closedError();
  }
}

function notifyInvalid(subscription: SubscriptionState, reason: InvalidEventReason, url: string): void {
  try {
    subscription.onInvalid?.(reason, url);
  } catch {
    // A counting callback must not break the pool.
  }
}

function clearRetryTimer(subscription: SubscriptionState, url: string): void {
  const timer = subscription.retryTimers.get(url);
  if (timer !== undefined) clearTimeout(timer);
  subscription.retryTimers.delete(url);
}

function clearRetryTimers(subscription: SubscriptionState): void {
  for (const timer of subscription.retryTimers.values()) clearTimeout(timer);
  subscription.retryTimers.clear();
}

function closedError(): FrostbunkerError {
  return new FrostbunkerError('INTERNAL', 'relay pool is closed');
}

function assertRelayUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('urls', `not a URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ConfigError('urls', `expected ws:// or wss://, got ${url}`);
  }
}

function positive(field: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(field, 'expected a positive number');
  return value;
}
