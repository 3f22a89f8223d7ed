/**
 * Flood budgets for the NIP-46 endpoint (RELIABILITY.md decision 3, G16/G16b): every request gets
 * a reply up to a per-client error budget, beyond which it is dropped and counted, so always-reply
 * never turns a flood into an amplifier; a global budget caps the ECDH spent on senders we do not
 * know. Pure state with an injected clock: the endpoint asks, the guard answers.
 */

export interface FloodBudgets {
  /** Requests a known client may have in flight per second, sustained (token bucket). */
  requestsPerSec: number;
  requestBurst: number;
  /** Error replies per client per second; past it, errors are dropped and counted. */
  errorRepliesPerSec: number;
  errorReplyBurst: number;
  /** Decryptions per second, all unknown senders together (each costs an ECDH). */
  unknownSenderDecryptsPerSec: number;
  unknownSenderDecryptBurst: number;
  /** Per-client buckets kept; the least recently seen are forgotten first. */
  maxTrackedClients: number;
}

export const DEFAULT_FLOOD_BUDGETS: FloodBudgets = {
  // A busy legitimate client (a bot, a relay-side service) stays well inside this; a flood does not.
  requestsPerSec: 100,
  requestBurst: 200,
  errorRepliesPerSec: 1,
  errorReplyBurst: 5,
  unknownSenderDecryptsPerSec: 50,
  unknownSenderDecryptBurst: 100,
  maxTrackedClients: 10_000,
};

export type FloodDrop = 'unknown_sender_budget' | 'request_rate' | 'error_reply_budget';

/** A token bucket: `rate` tokens per second up to `burst`, starting full. */
class TokenBucket {
  #tokens: number;
  #atMs: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.#tokens = burst;
    this.#atMs = nowMs;
  }

  take(nowMs: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#atMs) / 1000) * this.rate);
    this.#atMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

interface ClientBuckets {
  requests: TokenBucket;
  errorReplies: TokenBucket;
}

export class FloodGuard {
  readonly #budgets: FloodBudgets;
  readonly #nowMs: () => number;
  readonly #unknownSenders: TokenBucket;
  /** Insertion order is recency order: a touched client is re-inserted at the end. */
  readonly #clients = new Map<string, ClientBuckets>();
  readonly #drops: Record<FloodDrop, number> = { unknown_sender_budget: 0, request_rate: 0, error_reply_budget: 0 };

  constructor(options: { budgets?: Partial<FloodBudgets>; nowMs?: () => number } = {}) {
    this.#budgets = { ...DEFAULT_FLOOD_BUDGETS, ...options.budgets };
    this.#nowMs = options.nowMs ?? Date.now;
    this.#unknownSenders = new TokenBucket(this.#budgets.unknownSenderDecryptsPerSec, this.#budgets.unknownSenderDecryptBurst, this.#nowMs());
  }

  /** May we spend an ECDH on an event from a sender who is not a client of ours? */
  admitUnknownSender(): boolean {
    return this.#count(this.#unknownSenders.take(this.#nowMs()), 'unknown_sender_budget');
  }

  /** May this client's request be served now? (If not, it gets an error reply within its budget.) */
  admitRequest(clientPubkey: string): boolean {
    return this.#count(this.#buckets(clientPubkey).requests.take(this.#nowMs()), 'request_rate');
  }

  /** May this client be sent one more error reply? */
  admitErrorReply(clientPubkey: string): boolean {
    return this.#count(this.#buckets(clientPubkey).errorReplies.take(this.#nowMs()), 'error_reply_budget');
  }

  drops(): Readonly<Record<FloodDrop, number>> {
    return { ...this.#drops };
  }

  get trackedClients(): number {
    return this.#clients.size;
  }

  #count(admitted: boolean, reason: FloodDrop): boolean {
    if (!admitted) this.#drops[reason] += 1;
    return admitted;
  }

  #buckets(clientPubkey: string): ClientBuckets {
    const nowMs = this.#nowMs();
    let buckets = this.#clients.get(clientPubkey);
    if (buckets) {
      this.#clients.delete(clientPubkey);
    } else {
      buckets = {
        requests: new TokenBucket(this.#budgets.requestsPerSec, this.#budgets.requestBurst, nowMs),
        errorReplies: new TokenBucket(this.#budgets.errorRepliesPerSec, this.#budgets.errorReplyBurst, nowMs),
      };
      // Forgetting a client refills its buckets: acceptable, since only a flood of distinct
      // pubkeys evicts, and those are held back by the unknown-sender budget first.
      if (this.#clients.size >= this.#budgets.maxTrackedClients) this.#clients.delete(this.#clients.keys().next().value!);
    }
    this.#clients.set(clientPubkey, buckets);
    return buckets;
  }
}
