import { randomBytes } from 'node:crypto';
import { matchFilter } from 'nostr-tools/filter';
import { generateSecretKey } from 'nostr-tools/pure';
import type { Filter, NostrEvent } from '../nostr/event.js';
import { finalizeEvent, type EventTemplate } from '../nostr/event-signer.js';
import type { TransportLogger } from './logger.js';
import type { RelayConnection } from './relay-connection.js';

/**
 * Tag that marks a subscription probe: `["frostbunker-probe", <nonce>]`. The pool drops every event
 * carrying it before verification and before any handler, ours or not (a probe of an earlier
 * process that a relay still retains is just as uninteresting).
 */
export const PROBE_TAG = 'frostbunker-probe';

// NIP-01: 20000 <= kind < 30000 is ephemeral. A probe of any other kind would stay on the relay.
const isEphemeralKind = (kind: number): boolean => kind >= 20_000 && kind < 30_000;

export function isProbeEvent(event: Pick<NostrEvent, 'tags'>): boolean {
  return event.tags.some((tag) => tag[0] === PROBE_TAG);
}

/**
 * An event that a subscription with `filters` receives: the first kind of a filter, the first value
 * of each of its `#x` tag filters, plus the probe tag. Null when no filter can be matched by an
 * ephemeral event from an arbitrary key (one pinned to `ids` or `authors`, or for a stored kind).
 */
export function probeTemplateFor(filters: readonly Filter[], createdAtSec: number, nonce: string): EventTemplate | null {
  for (const filter of filters) {
    const kind = filter.kinds?.[0];
    if (kind === undefined || !isEphemeralKind(kind) || filter.ids !== undefined || filter.authors !== undefined) continue;
    const tags: string[][] = [];
    for (const [key, values] of Object.entries(filter)) {
      if (key.startsWith('#') && Array.isArray(values) && typeof values[0] === 'string') tags.push([key.slice(1), values[0]]);
    }
    tags.push([PROBE_TAG, nonce]);
    const template: EventTemplate = { kind, content: '', tags, created_at: createdAtSec };
    // `since`/`until` (and anything else) decide: the relay forwards only what matches.
    if (matchFilter(filter, { ...template, id: '', pubkey: '', sig: '' })) return template;
  }
  return null;
}

interface OutstandingProbe {
  readonly subscriptionId: string;
  readonly url: string;
  readonly sentAtMs: number;
}

/**
 * Probes in flight, by event id: each was sent to one relay for one subscription and is expected
 * back on that subscription from that relay before the next round. Bounded by about subscriptions ×
 * relays × 2, since every round starts by taking the previous round's leftovers.
 */
class ProbeRounds {
  readonly #outstanding = new Map<string, OutstandingProbe>();

  expect(eventId: string, subscriptionId: string, url: string, sentAtMs: number): void {
    this.#outstanding.set(eventId, { subscriptionId, url, sentAtMs });
  }

  /** True if `eventId` was the probe outstanding for this subscription on this relay (now answered). */
  answered(eventId: string, subscriptionId: string, url: string): boolean {
    const probe = this.#outstanding.get(eventId);
    if (probe === undefined || probe.subscriptionId !== subscriptionId || probe.url !== url) return false;
    this.#outstanding.delete(eventId);
    return true;
  }

  /** Forgets probes that can no longer tell anything: refused (`OK false`), socket closed, REQ re-sent. */
  forget(match: { eventId?: string; url?: string; subscriptionId?: string }): void {
    for (const [eventId, probe] of this.#outstanding) {
      if (match.eventId !== undefined && match.eventId !== eventId) continue;
      if (match.url !== undefined && match.url !== probe.url) continue;
      if (match.subscriptionId !== undefined && match.subscriptionId !== probe.subscriptionId) continue;
      this.#outstanding.delete(eventId);
    }
  }

  has(eventId: string): boolean {
    return this.#outstanding.has(eventId);
  }

  /** Probes sent before `sentBeforeMs` that never came back, removed (younger ones get more time). */
  takeMissed(sentBeforeMs: number): OutstandingProbe[] {
    const missed: OutstandingProbe[] = [];
    for (const [eventId, probe] of this.#outstanding) {
      if (probe.sentAtMs >= sentBeforeMs) continue;
      missed.push(probe);
      this.#outstanding.delete(eventId);
    }
    return missed;
  }

  clear(): void {
    this.#outstanding.clear();
  }
}

/** A subscription as the probe sees it. */
export interface ProbedSubscription {
  readonly subscriptionId: string;
  readonly filters: () => Filter[];
}

export interface SubscriptionProbeOptions {
  intervalMs: number;
  connections: readonly RelayConnection[];
  /** The subscriptions confirmed (EOSE) on `url`'s current connection. */
  liveSubscriptions: (url: string) => Iterable<ProbedSubscription>;
  /** Told about a probe the relay refused, for per-relay health. */
  onRefused: (url: string, reason: string) => void;
  logger: TransportLogger;
  nowMs: () => number;
}

/**
 * The relay pool's subscription probe (RELIABILITY.md §2.3 "Silent subscription death", G3): every
 * `intervalMs`, each live subscription gets a probe on each relay; a relay that accepted one and did
 * not deliver it by the next round is marked degraded and its socket replaced; it is healthy again
 * once a probe sent after the resubscription comes back.
 */
export class SubscriptionProbe {
  readonly #options: SubscriptionProbeOptions;
  readonly #rounds = new ProbeRounds();
  /** Signs probes only: nothing real is ever signed for a relay test. */
  readonly #secretKey = generateSecretKey();
  readonly #degradedAtMs = new Map<string, number>();
  readonly #misses = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** Monotonic time of the last round, to tell a late round (paused process) from a miss. */
  #lastRoundAtMs = performance.now();

  constructor(options: SubscriptionProbeOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer === null) this.#timer = setInterval(() => this.#round(), this.#options.intervalMs);
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#rounds.clear();
  }

  isDegraded(url: string): boolean {
    return this.#degradedAtMs.has(url);
  }

  misses(url: string): number {
    return this.#misses.get(url) ?? 0;
  }

  /** A closed socket is the reconnect logic's business, not a probe miss. */
  onClose(url: string): void {
    this.#rounds.forget({ url });
  }

  /** A REQ was (re)sent: what was in flight for it tells nothing any more. */
  onReq(url: string, subscriptionId: string): void {
    this.#rounds.forget({ url, subscriptionId });
  }

  /** Every subscription is live again on `connection`: a degraded relay is probed at once. */
  onResubscribed(connection: RelayConnection): void {
    if (this.isDegraded(connection.url)) this.#send(connection);
  }

  /** NIP-01 `OK` for `eventId`; true if it was a probe's (then it is handled here). */
  onOk(url: string, eventId: string, ok: unknown, reason: unknown): boolean {
    if (!this.#rounds.has(eventId)) return false;
    if (ok === true) return true;
    // Refused (rate limit, clock rules): the relay said why, so its subscription is not in question.
    this.#rounds.forget({ eventId });
    const reasonText = typeof reason === 'string' && reason !== '' ? reason.slice(0, 300) : 'rejected without a reason';
    this.#options.onRefused(url, reasonText);
    this.#options.logger('debug', 'relay refused a subscription probe', { url, reason: reasonText });
    return true;
  }

  /** A probe event arrived on `subscriptionId` from `url` (ours or not; either way it goes no further). */
  onEvent(url: string, subscriptionId: string, eventId: string): void {
    if (!this.#rounds.answered(eventId, subscriptionId, url)) return;
    const degradedAtMs = this.#degradedAtMs.get(url);
    if (degradedAtMs === undefined) return;
    this.#degradedAtMs.delete(url);
    this.#options.logger('info', 'relay delivers again (subscription probe answered)', { url, degradedMs: this.#options.nowMs() - degradedAtMs });
  }

  #round(): void {
    const { intervalMs, connections, nowMs } = this.#options;
    const monotonicMs = performance.now();
    const late = monotonicMs - this.#lastRoundAtMs > 1.5 * intervalMs;
    this.#lastRoundAtMs = monotonicMs;
    const missed = new Map<string, string>();
    // Younger probes (sent right after a resubscription) get until the next round.
    for (const probe of this.#rounds.takeMissed(nowMs() - intervalMs / 2)) missed.set(probe.url, probe.subscriptionId);
    // A late round means this process was paused or starved (SIGSTOP, a suspended VM): timers run
    // before the socket reads that may hold the answers, so judge nothing this round.
    if (late) missed.clear();
    for (const connection of connections) {
      const subscriptionId = missed.get(connection.url);
      if (subscriptionId !== undefined) this.#onMissed(connection, subscriptionId);
      else this.#send(connection);
    }
  }

  #send(connection: RelayConnection): void {
    if (!connection.connected) return;
    const nowMs = this.#options.nowMs();
    for (const subscription of this.#options.liveSubscriptions(connection.url)) {
      const template = probeTemplateFor(subscription.filters(), Math.floor(nowMs / 1000), randomBytes(8).toString('hex'));
      if (template === null) continue;
      const probe = finalizeEvent(template, this.#secretKey);
      if (connection.send(JSON.stringify(['EVENT', probe]))) this.#rounds.expect(probe.id, subscription.subscriptionId, connection.url, nowMs);
    }
  }

  #onMissed(connection: RelayConnection, subscriptionId: string): void {
    const url = connection.url;
    this.#misses.set(url, this.misses(url) + 1);
    if (!this.#degradedAtMs.has(url)) this.#degradedAtMs.set(url, this.#options.nowMs());
    this.#options.logger('warn', 'relay subscription probe missed; reconnecting', { url, subscriptionId, probeIntervalMs: this.#options.intervalMs });
    connection.reconnect('subscription probe missed');
  }
}
