import { groupXOnlyKey } from '@frostbunker/shared/crypto';
import type { Logger } from '@frostbunker/shared/logger';
import type { FromNodeMessage, UnsignedEventMessage, XOnlyPubkey } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { SigningIdentity } from './identity.js';

/** What the runtime needs from a signer: the SigningCoordinator, as constructed by main.ts. */
export interface IdentitySigner<Signed, Hooks> {
  sign(event: UnsignedEventMessage, hooks?: Hooks): Promise<Signed>;
  handleMessage(received: ReceivedMessage<FromNodeMessage>): void;
  /** One-round signing: unused pre-shared commitments per node label (metrics). */
  pooledCommitments?(): Record<string, number>;
}

/** What the runtime needs from a quorum monitor (QuorumMonitor). */
export interface IdentityMonitor<Status, Details> {
  start(): void;
  stop(): void;
  handleMessage(received: ReceivedMessage<FromNodeMessage>): void;
  status(): Status;
  details(): Details;
}

/** Why a new signing identity is refused; the old one stays in service. */
export class IdentitySwapError extends Error {
  override name = 'IdentitySwapError';
}

/** What `swap` did. */
export type SwapOutcome = { swapped: false } | { swapped: true; fromEpoch: number; toEpoch: number };

/**
 * Checks that `next` may replace `current` for one identity (issue 7): the npub never changes
 * (same 33-byte group key, parity included) and epochs only move forward; the same epoch must be
 * exactly the same group (a rewrite of the current epoch is a tamper, not a drill). Pure.
 */
export function checkIdentitySwap(current: SigningIdentity, next: SigningIdentity): 'same' | 'newer' {
  if (next.group.groupKey !== current.group.groupKey) {
    throw new IdentitySwapError(`the group key changed (${current.group.groupKey.slice(0, 16)}… -> ${next.group.groupKey.slice(0, 16)}…): a new npub needs a new identity, not a reload`);
  }
  if (next.epoch < current.epoch) throw new IdentitySwapError(`epoch ${next.epoch} is older than the epoch in service (${current.epoch})`);
  if (next.epoch === current.epoch) {
    if (next.groupId !== current.groupId || JSON.stringify(next.group) !== JSON.stringify(current.group)) {
      throw new IdentitySwapError(`epoch ${next.epoch} is in service with another group package; a new group needs a new epoch`);
    }
    return 'same';
  }
  return 'newer';
}

/**
 * One identity's signing state as the rest of the coordinator sees it (issue 7 hot pickup): the
 * NIP-46 endpoint, the announcer and health call through here, and `swap` puts a new epoch in
 * service by constructing a new signer and quorum monitor (their internals are untouched). The
 * replaced signer keeps receiving node messages for `retireAfterMs`, so a request already in
 * flight finishes (or fails) on the epoch it started with instead of hanging.
 */
export class IdentityRuntime<Signed, Hooks, Status, Details> {
  readonly name: string;
  readonly #makeSigner: (identity: SigningIdentity) => IdentitySigner<Signed, Hooks>;
  readonly #makeMonitor: (identity: SigningIdentity) => IdentityMonitor<Status, Details>;
  readonly #retireAfterMs: number;
  readonly #logger: Logger;
  #identity: SigningIdentity;
  #signer: IdentitySigner<Signed, Hooks>;
  #monitor: IdentityMonitor<Status, Details>;
  readonly #retired = new Set<IdentitySigner<Signed, Hooks>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #started = false;

  constructor(options: {
    name: string;
    identity: SigningIdentity;
    makeSigner: (identity: SigningIdentity) => IdentitySigner<Signed, Hooks>;
    makeMonitor: (identity: SigningIdentity) => IdentityMonitor<Status, Details>;
    /** How long a replaced signer still gets messages (at least one round deadline). */
    retireAfterMs: number;
    logger: Logger;
  }) {
    this.name = options.name;
    this.#makeSigner = options.makeSigner;
    this.#makeMonitor = options.makeMonitor;
    this.#retireAfterMs = options.retireAfterMs;
    this.#logger = options.logger;
    this.#identity = options.identity;
    this.#signer = options.makeSigner(options.identity);
    this.#monitor = options.makeMonitor(options.identity);
  }

  get identity(): SigningIdentity {
    return this.#identity;
  }

  get epoch(): number {
    return this.#identity.epoch;
  }

  get threshold(): number {
    return this.#identity.group.threshold;
  }

  /** x(Q): constant for the life of the identity (swap refuses anything else). */
  get userPubkey(): XOnlyPubkey {
    return groupXOnlyKey(this.#identity.group);
  }

  get monitor(): IdentityMonitor<Status, Details> {
    return this.#monitor;
  }

  /** The current members' node pubkeys. */
  get nodePubkeys(): XOnlyPubkey[] {
    return this.#identity.members.map((m) => m.nodePubkey);
  }

  /** The signer in service's pre-shared commitments per node label (empty when one-round is off). */
  pooledCommitments(): Record<string, number> {
    return this.#signer.pooledCommitments?.() ?? {};
  }

  sign(event: UnsignedEventMessage, hooks?: Hooks): Promise<Signed> {
    return this.#signer.sign(event, hooks);
  }

  handleMessage(received: ReceivedMessage<FromNodeMessage>): void {
    this.#signer.handleMessage(received);
    for (const signer of this.#retired) signer.handleMessage(received);
    this.#monitor.handleMessage(received);
  }

  start(): void {
    this.#started = true;
    this.#monitor.start();
  }

  stop(): void {
    this.#started = false;
    this.#monitor.stop();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#retired.clear();
  }

  /**
   * Puts `next` in service if it is a newer epoch of the same key; returns what happened, throws
   * IdentitySwapError (nothing changed) if it is not acceptable.
   */
  swap(next: SigningIdentity): SwapOutcome {
    if (checkIdentitySwap(this.#identity, next) === 'same') return { swapped: false };
    const fromEpoch = this.#identity.epoch;
    const signer = this.#makeSigner(next);
    const monitor = this.#makeMonitor(next);
    const retiring = this.#signer;
    const oldMonitor = this.#monitor;
    this.#identity = next;
    this.#signer = signer;
    this.#monitor = monitor;
    oldMonitor.stop();
    if (this.#started) monitor.start();
    this.#retired.add(retiring);
    const timer = setTimeout(() => {
      this.#retired.delete(retiring);
      this.#timers.delete(timer);
    }, this.#retireAfterMs);
    timer.unref();
    this.#timers.add(timer);
    this.#logger.info('identity swapped to a new epoch', { fromEpoch, toEpoch: next.epoch, threshold: next.group.threshold, members: next.members.map((m) => m.label) });
    return { swapped: true, fromEpoch, toEpoch: next.epoch };
  }
}
