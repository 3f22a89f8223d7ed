import { getPublicKey, type NostrEvent } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import type { Logger } from '@frostbunker/shared/logger';
import { createNip44Codec, finalizeEvent, KIND_NIP46 } from '@frostbunker/shared/nostr';
import {
  LIMITS,
  parseNip46Request,
  WINDOWS,
  type Nip46Response,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { BoundedTtlSet, type RelayPoolPort } from '@frostbunker/shared/transport';
import { dispatchNip46, resumeNip46, type Nip46Context, type ReplyChannel } from './dispatch.js';
import type { ReplyScheme } from '../approvals/approval-store.js';
import { FloodGuard, type FloodDrop } from './flood-guard.js';
import { errorReply } from './reply.js';

export type Nip46DropReason = 'bad_sig' | 'malformed' | 'not_for_us' | 'too_large' | 'duplicate' | 'undecryptable' | 'unanswerable' | FloodDrop;

/** Where (client, request id) keys are remembered for the request window; SQLite in production. */
export interface RequestDedupe {
  /** Records a sighting (with the scheme a late error would need); false for a replay. */
  firstSighting(key: string, replyScheme?: Scheme): boolean;
  /** The request's final reply went out. */
  answered?(key: string): void;
  /** Requests the previous process saw and never answered, each taken once (G10). */
  takeInterrupted?(): { key: string; scheme: string }[];
}

export interface Nip46EndpointOptions {
  pool: RelayPoolPort;
  /** Default: in memory, bounded (lost on restart); the coordinator passes the SQLite ReplayStore. */
  requestDedupe?: RequestDedupe;
  transportSecretKey: Uint8Array;
  /**
   * Whether a sender is a client of this identity; others share one decrypt budget (G16b).
   * Default: everyone is known (no budget), for tests that do not exercise floods.
   */
  isKnownClient?: (pubkey: string) => boolean;
  floodGuard?: FloodGuard;
  /** Told about every answered request (metrics). */
  onAnswered?: (method: string, ok: boolean) => void;
  context: Omit<Nip46Context, 'transportPubkey'>;
  logger: Logger;
  nowMs?: () => number;
}

type Scheme = ReplyScheme;

/**
 * The NIP-46 shell for one identity: receives kind-24133 requests p-tagged to its transport key,
 * decrypts, dedupes, checks the time window, dispatches, and replies in the request's scheme.
 */
export class Nip46Endpoint {
  readonly transportPubkey: XOnlyPubkey;
  readonly #options: Nip46EndpointOptions;
  readonly #context: Nip46Context;
  readonly #codec: ReturnType<typeof createNip44Codec>;
  readonly #nowMs: () => number;
  /** INTEROP.md: the same request arrives once per relay; replays inside the window are ignored. */
  readonly #eventIds: BoundedTtlSet;
  readonly #requestIds: RequestDedupe;
  readonly #dropped: Partial<Record<Nip46DropReason, number>> = {};
  readonly #guard: FloodGuard;
  readonly #isKnownClient: (pubkey: string) => boolean;
  #subscription: { close(): void } | undefined;

  constructor(options: Nip46EndpointOptions) {
    this.#options = options;
    this.transportPubkey = getPublicKey(options.transportSecretKey) as XOnlyPubkey;
    this.#context = { ...options.context, transportPubkey: this.transportPubkey };
    this.#codec = createNip44Codec(options.transportSecretKey);
    this.#nowMs = options.nowMs ?? Date.now;
    this.#guard = options.floodGuard ?? new FloodGuard({ nowMs: this.#nowMs });
    this.#isKnownClient = options.isKnownClient ?? (() => true);
    const windowMs = (WINDOWS.nip46RequestPastSec + WINDOWS.nip46RequestFutureSec) * 1000;
    // Event ids in memory (cheap, before any decryption); request keys persisted by the caller.
    this.#eventIds = new BoundedTtlSet({ ttlMs: windowMs, maxEntries: 100_000, nowMs: this.#nowMs });
    this.#requestIds = options.requestDedupe ?? inMemoryDedupe(new BoundedTtlSet({ ttlMs: windowMs, maxEntries: 100_000, nowMs: this.#nowMs }));
  }

  start(): void {
    const since = Math.floor(this.#nowMs() / 1000) - WINDOWS.nip46RequestPastSec;
    this.#subscription = this.#options.pool.subscribe(
      [{ kinds: [KIND_NIP46], '#p': [this.transportPubkey], since }],
      (event) => void this.handleEvent(event),
      // RELIABILITY.md G13: forged or malformed events are counted too (the pool drops them).
      { onInvalid: (reason) => void (this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1) },
    );
    this.#finishInterrupted();
  }

  /**
   * RELIABILITY.md G10: requests that were waiting for approval when the coordinator stopped get
   * an answer after restart, never silence: approved ones go on, the rest get their error.
   */
  #finishInterrupted(): void {
    const queued = new Set<string>();
    for (const record of this.#context.approvals.unanswered()) {
      queued.add(`${record.clientPubkey}:${record.requestId}`);
      const client = record.clientPubkey as XOnlyPubkey;
      const channel = this.#channel(client, record.scheme);
      const parsed = record.request && parseNip46Request(JSON.stringify({ id: record.requestId, method: record.request.method, params: record.request.params }));
      if (record.waitingOn !== 'operator' || !parsed?.ok) {
        // A share node's hold died with the signing session; the client must ask again.
        this.#context.approvals.settleNodeWait(record.approvalId, 'expired', 'coordinator restarted');
        this.#context.approvals.markAnswered(record.approvalId);
        void this.#reply(client, record.scheme, { id: record.requestId, result: '', error: 'interrupted by a bunker restart; send the request again' });
        continue;
      }
      this.#options.logger.info('nip46 request resumed after restart', { client, approvalId: record.approvalId, state: record.state });
      void resumeNip46(parsed.request, record.approvalId, client, this.#context, channel).then((response) =>
        this.#answer(`${client}:${record.requestId}`, client, record.scheme, response),
      );
    }
    // Any other request the previous process was working on (a signing round, a decryption) died
    // with it: the client gets an error now rather than silence forever.
    for (const { key, scheme } of this.#requestIds.takeInterrupted?.() ?? []) {
      if (queued.has(key)) continue;
      const separator = key.indexOf(':');
      const client = key.slice(0, separator) as XOnlyPubkey;
      const requestId = key.slice(separator + 1);
      if (!/^[0-9a-f]{64}$/.test(client) || (scheme !== 'nip44' && scheme !== 'nip04')) continue;
      this.#options.logger.info('nip46 request interrupted by a restart', { client, requestId });
      void this.#reply(client, scheme, { id: requestId, result: '', error: 'interrupted by a bunker restart; send the request again' });
    }
  }

  /** The final reply of a request: published, then recorded as answered. */
  async #answer(key: string, clientPubkey: XOnlyPubkey, scheme: Scheme, response: Nip46Response, options: { alwaysReply?: boolean } = {}): Promise<void> {
    await this.#reply(clientPubkey, scheme, response, options);
    this.#requestIds.answered?.(key);
  }

  #channel(clientPubkey: XOnlyPubkey, scheme: Scheme): ReplyChannel {
    return { scheme, sendInterim: (response) => this.#reply(clientPubkey, scheme, response) };
  }

  stop(): void {
    this.#subscription?.close();
    this.#subscription = undefined;
  }

  dropped(): Readonly<Partial<Record<Nip46DropReason, number>>> {
    return { ...this.#dropped };
  }

  /** Handles one verified kind-24133 event; exported for in-process fuzzing. */
  async handleEvent(event: NostrEvent): Promise<void> {
    const log = this.#options.logger;
    if (event.kind !== KIND_NIP46 || !event.tags.some((t) => t[0] === 'p' && t[1] === this.transportPubkey)) {
      return this.#drop('not_for_us', event);
    }
    if (event.content.length > LIMITS.nip46ContentChars) return this.#drop('too_large', event);
    if (!this.#eventIds.add(event.id)) return this.#drop('duplicate', event);
    const clientPubkey = event.pubkey as XOnlyPubkey;
    // Known clients first: strangers (connects, junk) share one ECDH budget (RELIABILITY.md G16b).
    if (!this.#isKnownClient(clientPubkey) && !this.#guard.admitUnknownSender()) return this.#drop('unknown_sender_budget', event);
    const scheme: Scheme = event.content.includes('?iv=') ? 'nip04' : 'nip44';
    let plaintext: string;
    try {
      plaintext = scheme === 'nip04'
        ? nip04.decrypt(this.#options.transportSecretKey, clientPubkey, event.content)
        : this.#codec.decrypt(clientPubkey, event.content);
    } catch {
      return this.#drop('undecryptable', event);
    }
    const parsed = parseNip46Request(plaintext);
    if (!parsed.ok) {
      if (parsed.requestId === null) return this.#drop('unanswerable', event);
      log.info('nip46 bad request', { client: clientPubkey, code: parsed.error.code });
      return this.#reply(clientPubkey, scheme, errorReply(parsed.requestId, parsed.error));
    }
    const { request } = parsed;
    const requestKey = `${clientPubkey}:${request.requestId}`;
    if (!this.#requestIds.firstSighting(requestKey, scheme)) return this.#drop('duplicate', event);
    const windowError = this.#checkWindow(event.created_at);
    if (windowError) {
      log.info('nip46 request outside window', { client: clientPubkey, method: request.method, createdAt: event.created_at });
      return this.#answer(requestKey, clientPubkey, scheme, { id: request.requestId, result: '', error: windowError });
    }
    if (!this.#guard.admitRequest(clientPubkey)) {
      log.info('nip46 request over the client rate', { client: clientPubkey, method: request.method });
      return this.#answer(requestKey, clientPubkey, scheme, { id: request.requestId, result: '', error: 'rate limited: too many requests, slow down' });
    }
    const started = performance.now();
    let authorized = false;
    const channel = { ...this.#channel(clientPubkey, scheme), authorized: () => void (authorized = true) };
    const response = await dispatchNip46(request, clientPubkey, this.#context, channel);
    this.#options.onAnswered?.(request.method, response.error === undefined);
    log.info('nip46 request', {
      client: clientPubkey,
      method: request.method,
      ok: response.error === undefined,
      error: response.error,
      ms: Math.round(performance.now() - started),
    });
    await this.#answer(requestKey, clientPubkey, scheme, response, { alwaysReply: authorized });
  }

  #checkWindow(createdAtSec: number): string | undefined {
    const nowSec = Math.floor(this.#nowMs() / 1000);
    if (createdAtSec < nowSec - WINDOWS.nip46RequestPastSec) return 'request too old (check clock)';
    if (createdAtSec > nowSec + WINDOWS.nip46RequestFutureSec) return 'request from the future (check clock)';
    return undefined;
  }

  async #reply(clientPubkey: XOnlyPubkey, scheme: Scheme, response: Nip46Response, options: { alwaysReply?: boolean } = {}): Promise<void> {
    // Always reply, within a per-client budget for cheap errors (denials, bad requests, rate
    // limits): past it they are counted drops, so a flood is never amplified. An error that came
    // after real work (a veto, a quorum failure, an operator's refusal) is always sent: its cost
    // was already bounded by the request rate, and the client must not hang.
    const isError = response.error !== undefined && response.result !== 'auth_url';
    if (isError && !options.alwaysReply && !this.#guard.admitErrorReply(clientPubkey)) {
      this.#dropped.error_reply_budget = (this.#dropped.error_reply_budget ?? 0) + 1;
      return;
    }
    const plaintext = JSON.stringify(response);
    const content = scheme === 'nip04'
      ? nip04.encrypt(this.#options.transportSecretKey, clientPubkey, plaintext)
      : this.#codec.encrypt(clientPubkey, plaintext);
    const event = finalizeEvent(
      { kind: KIND_NIP46, created_at: Math.floor(this.#nowMs() / 1000), tags: [['p', clientPubkey]], content },
      this.#options.transportSecretKey,
    );
    try {
      await this.#options.pool.publish(event);
    } catch (error) {
      this.#options.logger.warn('nip46 reply not published', { client: clientPubkey, requestId: response.id, error: String(error) });
    }
  }

  #drop(reason: Nip46DropReason, event: NostrEvent): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
    this.#options.logger.debug('nip46 event dropped', { reason, eventId: event.id, sender: event.pubkey });
  }
}

function inMemoryDedupe(seen: BoundedTtlSet): RequestDedupe {
  return { firstSighting: (key) => seen.add(key) };
}
