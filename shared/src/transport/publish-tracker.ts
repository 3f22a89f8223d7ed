import { FrostbunkerError } from '../errors.js';
import type { NostrEvent } from '../nostr/event.js';
import type { TransportLogger } from './logger.js';
import type { RelayConnection } from './relay-connection.js';

export interface PublishRejection {
  url: string;
  reason: string;
}

export interface PublishResult {
  /** Relays that answered `OK true` by the time the promise resolved (at least one). */
  acceptedBy: string[];
  /** Relays that answered `OK false` by then, with their reason. */
  rejected: PublishRejection[];
}

/** No relay accepted an event; `rejected` names each relay and its reason. */
export class PublishError extends FrostbunkerError {
  override name = 'PublishError';
  constructor(
    readonly eventId: string,
    readonly rejected: readonly PublishRejection[],
    allAnswered: boolean,
  ) {
    super(
      // Every relay refused explicitly: the event itself is the problem; otherwise some never answered.
      allAnswered ? 'PROTOCOL_INVALID' : 'TIMEOUT',
      `no relay accepted event ${eventId}: ${rejected.map((r) => `${r.url}: ${r.reason}`).join('; ') || 'no relays'}`,
    );
  }
}

export interface PublishTrackerOptions {
  timeoutMs: number;
  maxPending: number;
  logger: TransportLogger;
  /** Told about each `OK false`, for per-relay health. */
  onRejected: (url: string, reason: string) => void;
}

type RelayPublishState = 'waiting' | 'sent' | 'accepted' | 'rejected';

interface PendingPublish {
  readonly eventId: string;
  readonly frame: string;
  /** Per relay URL; every relay of the pool has an entry. */
  readonly state: Map<string, RelayPublishState>;
  readonly connections: readonly RelayConnection[];
  readonly acceptedBy: string[];
  readonly rejected: PublishRejection[];
  readonly promise: Promise<PublishResult>;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
  timer: NodeJS.Timeout | null;
}

/**
 * Publishes in flight, each waiting for NIP-01 `OK` from its relays: sent to every connected relay
 * at once and to the others when they connect (or reconnect) within the timeout; settled by the
 * first `OK true`, or rejected when every relay refused or the timeout passed. Bounded by
 * `maxPending`.
 */
export class PublishTracker {
  readonly #options: PublishTrackerOptions;
  readonly #pending = new Map<string, PendingPublish>();

  constructor(options: PublishTrackerOptions) {
    this.#options = options;
  }

  publish(event: NostrEvent, connections: readonly RelayConnection[]): Promise<PublishResult> {
    const existing = this.#pending.get(event.id);
    if (existing !== undefined) return existing.promise;
    if (this.#pending.size >= this.#options.maxPending) {
      return Promise.reject(
        new PublishError(event.id, [{ url: '*', reason: `more than ${this.#options.maxPending} publishes in flight` }], false),
      );
    }
    let resolve!: (result: PublishResult) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<PublishResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: PendingPublish = {
      eventId: event.id,
      frame: JSON.stringify(['EVENT', event]),
      state: new Map(),
      connections,
      acceptedBy: [],
      rejected: [],
      promise,
      resolve,
      reject,
      settled: false,
      timer: null,
    };
    this.#pending.set(event.id, pending);
    for (const connection of connections) {
      pending.state.set(connection.url, connection.send(pending.frame) ? 'sent' : 'waiting');
    }
    pending.timer = setTimeout(() => this.#finish(pending), this.#options.timeoutMs);
    return promise;
  }

  /** A relay (re)connected: send it every publish it has not received on a live socket. */
  onOpen(connection: RelayConnection): void {
    for (const pending of this.#pending.values()) {
      if (pending.state.get(connection.url) === 'waiting' && connection.send(pending.frame)) {
        pending.state.set(connection.url, 'sent');
      }
    }
  }

  /** Sent but not answered before the drop: send again if the relay is back within the timeout. */
  onClose(connection: RelayConnection): void {
    for (const pending of this.#pending.values()) {
      if (pending.state.get(connection.url) === 'sent') pending.state.set(connection.url, 'waiting');
    }
  }

  /** NIP-01 `["OK", <event id>, <true|false>, <message>]` from `url`. */
  onOk(url: string, eventId: unknown, ok: unknown, reason: unknown): void {
    if (typeof eventId !== 'string') return;
    const pending = this.#pending.get(eventId);
    if (pending === undefined) return;
    const current = pending.state.get(url);
    if (current === undefined || current === 'accepted' || current === 'rejected') return;
    if (ok === true) {
      pending.state.set(url, 'accepted');
      pending.acceptedBy.push(url);
      if (!pending.settled) {
        pending.settled = true;
        pending.resolve({ acceptedBy: [...pending.acceptedBy], rejected: [...pending.rejected] });
      }
    } else {
      const reasonText = typeof reason === 'string' && reason !== '' ? reason.slice(0, 300) : 'rejected without a reason';
      pending.state.set(url, 'rejected');
      pending.rejected.push({ url, reason: reasonText });
      this.#options.onRejected(url, reasonText);
      this.#options.logger('warn', 'relay rejected event', { url, eventId, reason: reasonText });
    }
    if (allAnswered(pending)) this.#finish(pending);
  }

  /** Rejects everything still unsettled with `error` and clears every timer. */
  close(error: Error): void {
    for (const pending of this.#pending.values()) {
      if (pending.timer !== null) clearTimeout(pending.timer);
      if (!pending.settled) {
        pending.settled = true;
        pending.reject(error);
      }
    }
    this.#pending.clear();
  }

  #finish(pending: PendingPublish): void {
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (this.#pending.get(pending.eventId) === pending) this.#pending.delete(pending.eventId);
    if (pending.settled) return;
    pending.settled = true;
    const rejected = [...pending.rejected];
    for (const connection of pending.connections) {
      const state = pending.state.get(connection.url);
      if (state === 'sent') rejected.push({ url: connection.url, reason: `no OK within ${this.#options.timeoutMs} ms` });
      if (state === 'waiting') {
        const lastError = connection.health().lastError;
        rejected.push({ url: connection.url, reason: `not connected${lastError !== null ? ` (${lastError})` : ''}` });
      }
    }
    pending.reject(new PublishError(pending.eventId, rejected, allAnswered(pending)));
  }
}

function allAnswered(pending: PendingPublish): boolean {
  for (const state of pending.state.values()) {
    if (state !== 'accepted' && state !== 'rejected') return false;
  }
  return true;
}
