import {
  CeremonyError,
  CommitmentMismatchError,
  commit,
  createSigningPackage,
  dealDkg,
  finishDkg,
  startDkg,
  type DkgRound1Message,
  type DkgState,
  dealRefresh,
  dealReshare,
  finishRefresh,
  finishReshare,
  identifierFromIndex,
  parseGroupPackage,
  NonceStore,
  signShare,
  verifyRefresh,
  verifyReshare,
  type CommitmentEcho,
  type GroupPackage,
  type PendingRefresh,
  type PendingReshare,
  type SigningShare,
} from '@frostbunker/shared/crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Logger } from '@frostbunker/shared/logger';
import type { Nip44Codec } from '@frostbunker/shared/nostr';
import {
  CEREMONY_PROTOCOL_VERSION,
  ceremonyTestMessage,
  computeCeremonyId,
  computeDkgCeremonyId,
  computeGroupId,
  NO_GROUP_ID,
  groupPackageDigest,
  sealedEchoSchema,
  sealedSubShareSchema,
  type CeremonyDecision,
  type CeremonyDeliver,
  type CeremonyDkgRound1s,
  type CeremonyDkgRound2s,
  type CeremonyDkgStart,
  type DkgParams,
  type CeremonyEchoes,
  type CeremonyFailureCode,
  type CeremonyHeader,
  type CeremonyId,
  type CeremonyStart,
  type CeremonyTestRound1,
  type CeremonyTestRound2,
  type FromNodeCeremonyMessage,
  type FrostIdentifier,
  type GroupId,
  type GroupMember,
  type ToNodeCeremonyMessage,
} from '@frostbunker/shared/protocol';
import type { ShareNodeConfig } from '../config.js';
import type { EpochFiles, PendingEpoch } from './epoch-files.js';
import type { JoiningNode } from './joining.js';

/** One ceremony step as the node log records it. */
export interface CeremonyLogStep {
  ceremonyId: CeremonyId;
  /** `refresh.S1.dealt`, `reshare.S3.pending`, `S6.switched`, `abort`, `refused`… */
  step: string;
  detail: string;
}

/** Crash-test hook: called at named points (RELIABILITY.md G12 steps); may kill the process. */
export type Failpoint = (name: string) => void;

export interface CeremonyHandlerOptions {
  /** The node's current enrolment; re-read after every switch. Null while the node is joining. */
  config: () => ShareNodeConfig | null;
  /** A joining node (no share yet, `share-node init`): its identity; it can only receive a reshare. */
  joining?: JoiningNode | null;
  /** A committed reshare left this node out: its share is destroyed; it stops serving. */
  onRetired?: () => void;
  /** Each ceremony step this node takes, for its hash-chained node log (never a secret). */
  log?: (step: CeremonyLogStep) => void;
  files: EpochFiles;
  /** A pending epoch found on disk at start (EpochFiles.loadPending). */
  pending: PendingEpoch | null;
  /** NIP-44 with the node identity key: sub-shares and echoes travel node to node. */
  codec: Nip44Codec;
  isFrozen: () => boolean;
  /** Reloads the node's config from disk after a switch and puts the new epoch in service. */
  onSwitched: () => Promise<void>;
  logger: Logger;
  nowSec: () => number;
  monotonicMs: () => number;
  failpoint?: Failpoint;
  /** Accepted age of a ceremony's `createdAtSec`, either way. Default 600 s. */
  maxParamsAgeSec?: number;
}

/** A DKG in progress on a joining node (it holds the secret polynomial until finish or discard). */
interface ActiveDkg {
  ceremonyId: CeremonyId;
  params: DkgParams;
  me: FrostIdentifier;
  state: DkgState;
  round1: DkgRound1Message;
  phase: 'committed' | 'dealt';
}

interface ActiveRefresh {
  ceremonyId: CeremonyId;
  start: CeremonyStart;
  phase: 'dealt' | 'verified';
  pending?: PendingRefresh;
  /** Reshare only: what the parameters say, checked at S1. */
  reshare?: {
    fromGroup: GroupPackage;
    fromMembers: GroupMember[];
    newMembers: GroupMember[];
    /** Our identifier in the new group, or null when this node is retired by the reshare. */
    newIdentifier: FrostIdentifier | null;
    pending?: PendingReshare;
  };
}

class CeremonyFailure extends Error {
  constructor(
    readonly code: CeremonyFailureCode,
    message: string,
    readonly culprits: readonly FrostIdentifier[] = [],
  ) {
    super(message);
  }
}

/**
 * The share node's side of a refresh (issue 7): checks the coordinator's parameters against its own
 * enrolment, deals, verifies every dealer's contribution (shared/crypto/refresh.ts), echoes, makes
 * the pending share durable before saying so, test-signs with it, and switches epoch only on the
 * coordinator's commit decision; until then the current epoch stays in service. One message at a
 * time; every message gets exactly one reply.
 */
export class CeremonyHandler {
  readonly #options: CeremonyHandlerOptions;
  #active: ActiveRefresh | undefined;
  #dkg: ActiveDkg | undefined;
  /** A joining node: the group and epoch of the last reshare that named it (for message headers). */
  #joinedBy: { groupId: GroupId; epoch: number } | undefined;
  #pending: PendingEpoch | null;
  readonly #nonces: NonceStore;
  readonly #testShares = new Map<string, 'pending' | 'current'>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CeremonyHandlerOptions) {
    this.#options = options;
    this.#pending = options.pending;
    this.#nonces = new NonceStore({ maxPending: 8, ttlMs: 60_000, now: options.monotonicMs });
  }

  /** The pending epoch, if any (for status). */
  get pending(): PendingEpoch | null {
    return this.#pending;
  }

  /** Answers one authenticated coordinator message; serialised so file steps never interleave. */
  handle(message: ToNodeCeremonyMessage): Promise<FromNodeCeremonyMessage> {
    const next = this.#queue.then(() => this.#handle(message));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #handle(message: ToNodeCeremonyMessage): Promise<FromNodeCeremonyMessage> {
    try {
      if (message.type === 'ceremony_status') return this.#status(message.ceremonyId);
      const config = this.#options.config();
      // A joining node has no group yet: the reshare's parameters (bound by the ceremony id) name it.
      if (config ? message.groupId !== config.groupId : message.type !== 'ceremony_start' && message.type !== 'ceremony_dkg_start' && this.#active?.ceremonyId !== message.ceremonyId && this.#dkg?.ceremonyId !== message.ceremonyId && this.#pending?.ceremonyId !== message.ceremonyId) {
        throw new CeremonyFailure('bad_params', 'unknown group');
      }
      if (this.#options.isFrozen()) throw new CeremonyFailure('frozen', 'frozen');
      switch (message.type) {
        case 'ceremony_start':
          return message.params.kind === 'refresh' ? this.#start(message) : this.#startReshare(message);
        case 'ceremony_deliver':
          return this.#active?.reshare && this.#active.ceremonyId === message.ceremonyId ? this.#deliverReshare(message) : this.#deliver(message);
        case 'ceremony_echoes':
          return this.#active?.reshare && this.#active.ceremonyId === message.ceremonyId ? await this.#echoesReshare(message) : await this.#echoes(message);
        case 'ceremony_test_round1':
          return this.#testRound1(message);
        case 'ceremony_test_round2':
          return this.#testRound2(message);
        case 'ceremony_decision':
          return await this.#decide(message);
        case 'ceremony_dkg_start':
          return this.#startDkg(message);
        case 'ceremony_dkg_round1s':
          return this.#dealDkg(message);
        case 'ceremony_dkg_round2s':
          return await this.#finishDkg(message);
      }
    } catch (error) {
      // A failpoint standing for a crash: no reply at all, as after SIGKILL.
      if (error instanceof Error && error.name === 'FailpointCrash') throw error;
      return this.#failed(message.ceremonyId, error);
    }
  }

  #header(ceremonyId: CeremonyId): CeremonyHeader {
    const config = this.#options.config();
    if (config) return { v: CEREMONY_PROTOCOL_VERSION, groupId: config.groupId, epoch: config.epoch, ceremonyId };
    // Joining: speak in the terms of the reshare that will enrol us.
    const joinedBy = this.#joinedBy;
    return { v: CEREMONY_PROTOCOL_VERSION, groupId: joinedBy?.groupId ?? ('0'.repeat(64) as GroupId), epoch: joinedBy?.epoch ?? 0, ceremonyId };
  }

  /** The enrolment of a member; a joining node has none and can take part only in a reshare. */
  #enrolled(): ShareNodeConfig {
    const config = this.#options.config();
    if (!config) throw new CeremonyFailure('bad_params', 'this node is joining: it has no share yet');
    return config;
  }

  #nodeSecretKey(): string {
    const key = this.#options.config()?.nodeSecretKey ?? this.#options.joining?.nodeSecretKey;
    if (key === undefined) throw new CeremonyFailure('protocol', 'no node key');
    return key;
  }

  #status(ceremonyId: CeremonyId): FromNodeCeremonyMessage {
    const pending = this.#pending;
    return {
      ...this.#header(ceremonyId),
      type: 'ceremony_state',
      identifier: this.#enrolled().share.identifier,
      frozen: this.#options.isFrozen(),
      pending: pending
        ? { ceremonyId: pending.ceremonyId, toEpoch: pending.toEpoch, committed: pending.committed, groupDigest: pending.groupDigest }
        : null,
    };
  }

  /** S1: the parameters must describe a refresh of exactly our group, from our epoch to the next. */
  #start(message: CeremonyStart): FromNodeCeremonyMessage {
    const config = this.#enrolled();
    const { params } = message;
    if (computeCeremonyId(params) !== message.ceremonyId) throw new CeremonyFailure('bad_params', 'ceremony id does not match its parameters');
    if (params.kind !== 'refresh') throw new CeremonyFailure('bad_params', `${params.kind} is not supported by this node yet`);
    if (params.fromEpoch !== config.epoch || message.epoch !== config.epoch) throw new CeremonyFailure('wrong_epoch', `this node is on epoch ${config.epoch}`);
    if (params.toEpoch !== config.epoch + 1) throw new CeremonyFailure('bad_params', 'a refresh creates the next epoch');
    const { group } = config;
    if (params.groupId !== config.groupId || params.groupKey !== group.groupKey) throw new CeremonyFailure('bad_params', 'not this group');
    if (params.threshold !== group.threshold || params.maxSigners !== group.maxSigners || params.newThreshold !== group.threshold || params.newMaxSigners !== group.maxSigners) {
      throw new CeremonyFailure('bad_params', 'a refresh keeps (k, n)');
    }
    const members = Object.keys(group.verifyingShares).sort();
    // RELIABILITY.md T21: a refresh needs all n members as dealers and recipients.
    const same = (ids: readonly string[]) => ids.length === members.length && [...ids].sort().every((id, i) => id === members[i]);
    if (!same(params.dealers) || !same(params.participants)) throw new CeremonyFailure('bad_params', 'a refresh needs every member as dealer and participant');
    const ageSec = Math.abs(this.#options.nowSec() - params.createdAtSec);
    if (ageSec > (this.#options.maxParamsAgeSec ?? 600)) throw new CeremonyFailure('bad_params', 'ceremony parameters are stale');
    if (this.#pending && this.#pending.ceremonyId !== message.ceremonyId) {
      throw new CeremonyFailure('pending_decision', `epoch ${this.#pending.toEpoch} of ceremony ${this.#pending.ceremonyId.slice(0, 12)} awaits a decision`);
    }
    if (this.#pending) throw new CeremonyFailure('pending_decision', 'this ceremony already has a pending share');

    this.#discardActive();
    const { message: commitments, subShares } = dealRefresh({ share: config.share, group });
    const sealed: Record<string, string> = {};
    try {
      for (const subShare of subShares) {
        const recipient = config.members.find((m) => m.identifier === subShare.recipient);
        if (!recipient) throw new CeremonyFailure('bad_params', 'a recipient is not enrolled');
        sealed[subShare.recipient] = this.#options.codec.encrypt(
          recipient.nodePubkey,
          JSON.stringify({
            v: CEREMONY_PROTOCOL_VERSION,
            type: 'sub_share',
            ceremonyId: message.ceremonyId,
            dealer: config.share.identifier,
            recipient: subShare.recipient,
            subShare: subShare.toMessage(),
          }),
        );
      }
    } finally {
      for (const subShare of subShares) subShare.discard();
    }
    this.#active = { ceremonyId: message.ceremonyId, start: message, phase: 'dealt' };
    this.#options.logger.info('refresh: dealt', { ceremonyId: message.ceremonyId, toEpoch: params.toEpoch });
    this.#step(message.ceremonyId, 'refresh.S1.dealt', `epoch ${params.fromEpoch} -> ${params.toEpoch}, ${params.threshold}-of-${params.maxSigners}`);
    this.#options.failpoint?.('refresh.after_S1');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_contribution', commitments: commitments.commitments, sealed };
  }

  #activeFor(ceremonyId: CeremonyId, phase: ActiveRefresh['phase']): ActiveRefresh {
    const active = this.#active;
    if (!active || active.ceremonyId !== ceremonyId) throw new CeremonyFailure('unknown_ceremony', 'no such ceremony in progress');
    if (active.phase !== phase) throw new CeremonyFailure('protocol', `ceremony is past ${phase}`);
    return active;
  }

  #memberKey(identifier: FrostIdentifier, members: readonly GroupMember[] = this.#enrolled().members): string {
    const member = members.find((m) => m.identifier === identifier);
    if (!member) throw new CeremonyFailure('protocol', `${identifier.slice(0, 12)} is not a member`);
    return member.nodePubkey;
  }

  /**
   * Opens a sub-share `dealer` sealed to us for this ceremony; 'undecryptable' (the verify step
   * names the dealer) when it does not open or is not addressed dealer → us. The sealed payload is
   * authenticated by ECDH(dealer, us): the coordinator cannot make one.
   */
  #openSubShare(ceremonyId: string, dealer: FrostIdentifier, me: FrostIdentifier, sealed: string, members?: readonly GroupMember[]): unknown {
    try {
      const parsed = sealedSubShareSchema.safeParse(JSON.parse(this.#options.codec.decrypt(this.#memberKey(dealer, members), sealed)));
      if (parsed.success && parsed.data.ceremonyId === ceremonyId && parsed.data.dealer === dealer && parsed.data.recipient === me) return parsed.data.subShare;
    } catch (error) {
      if (error instanceof CeremonyFailure) throw error;
    }
    return 'undecryptable';
  }

  /** Our echo sealed to every other member (node to node: the coordinator only relays it). */
  #sealEchoes(ceremonyId: string, me: FrostIdentifier, members: readonly GroupMember[], echo: CommitmentEcho): Record<string, string> {
    const sealed: Record<string, string> = {};
    for (const member of members) {
      if (member.identifier === me) continue;
      sealed[member.identifier] = this.#options.codec.encrypt(
        member.nodePubkey,
        JSON.stringify({ v: CEREMONY_PROTOCOL_VERSION, type: 'echo', ceremonyId, from: me, to: member.identifier, echo }),
      );
    }
    return sealed;
  }

  /** S2 (first half): open every sub-share meant for us, verify all contributions, echo. */
  #deliver(message: CeremonyDeliver): FromNodeCeremonyMessage {
    const active = this.#activeFor(message.ceremonyId, 'dealt');
    const config = this.#enrolled();
    const me = config.share.identifier;
    const commitments: Record<string, unknown> = {};
    const subShares: Record<string, unknown> = {};
    for (const [dealer, contribution] of Object.entries(message.contributions) as [FrostIdentifier, { commitments: string[]; sealed: string }][]) {
      commitments[dealer] = { commitments: contribution.commitments };
      subShares[dealer] = this.#openSubShare(message.ceremonyId, dealer, me, contribution.sealed);
    }
    const pending = verifyRefresh({ share: config.share, group: config.group, commitments, subShares });
    active.pending = pending;
    active.phase = 'verified';
    const sealed = this.#sealEchoes(message.ceremonyId, me, config.members, pending.echo);
    if (pending.rejections.length > 0) {
      this.#options.logger.warn('refresh: contributions rejected (blame after the echo round)', { rejections: pending.rejections.map((r) => r.from.slice(0, 12)) });
    }
    return { ...this.#header(message.ceremonyId), type: 'ceremony_echo', digest: pending.echo.digest, sealed };
  }

  /** S2 (second half) and S3: compare echoes, compute the new share, make it durable, then say so. */
  async #echoes(message: CeremonyEchoes): Promise<FromNodeCeremonyMessage> {
    const active = this.#activeFor(message.ceremonyId, 'verified');
    const config = this.#enrolled();
    const me = config.share.identifier;
    const echoes: Record<string, unknown> = {};
    for (const [from, sealed] of Object.entries(message.echoes) as [FrostIdentifier, string][]) {
      let opened: unknown;
      try {
        const parsed = sealedEchoSchema.safeParse(JSON.parse(this.#options.codec.decrypt(this.#memberKey(from), sealed)));
        if (parsed.success && parsed.data.ceremonyId === message.ceremonyId && parsed.data.from === from && parsed.data.to === me) opened = parsed.data.echo;
      } catch (error) {
        if (error instanceof CeremonyFailure) throw error;
      }
      echoes[from] = opened ?? 'undecryptable';
    }
    const pendingRefresh = active.pending!;
    this.#active = undefined;
    const { group, share } = finishRefresh(pendingRefresh, echoes);
    this.#options.failpoint?.('refresh.after_S2');
    const { params } = active.start;
    try {
      const file = await this.#options.files.writePending(
        { ceremonyId: message.ceremonyId, fromEpoch: params.fromEpoch, toEpoch: params.toEpoch, group, share },
        config.nodeSecretKey,
      );
      this.#pending = { ceremonyId: message.ceremonyId, fromEpoch: params.fromEpoch, toEpoch: params.toEpoch, group, groupDigest: file.groupDigest, share, committed: false };
    } catch (error) {
      throw new CeremonyFailure('store_failed', `pending share not stored: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#options.logger.info('refresh: pending share stored', { ceremonyId: message.ceremonyId, toEpoch: params.toEpoch });
    this.#step(message.ceremonyId, 'refresh.S3.pending', `pending share for epoch ${params.toEpoch} stored; group ${this.#pending!.groupDigest.slice(0, 16)}`);
    this.#options.failpoint?.('refresh.after_S3');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_pending', toEpoch: params.toEpoch, groupDigest: groupPackageDigest(group), group };
  }

  #testMaterial(ceremonyId: CeremonyId, which: 'pending' | 'current'): { share: SigningShare; group: GroupPackage } {
    const pending = this.#pending;
    if (!pending || pending.ceremonyId !== ceremonyId || pending.committed) throw new CeremonyFailure('unknown_ceremony', 'no pending share for this ceremony');
    if (which === 'pending') return { share: pending.share, group: pending.group };
    const config = this.#enrolled();
    return { share: config.share, group: config.group };
  }

  /** S4: fresh nonces for one test id; a test id is never given nonces twice. */
  #testRound1(message: CeremonyTestRound1): FromNodeCeremonyMessage {
    const { share } = this.#testMaterial(message.ceremonyId, message.share);
    const { nonces, commitments } = commit(share);
    try {
      this.#nonces.put(message.testId, nonces);
    } catch {
      nonces.discard();
      throw new CeremonyFailure('protocol', 'test id already used');
    }
    this.#testShares.set(message.testId, message.share);
    return { ...this.#header(message.ceremonyId), type: 'ceremony_test_commitments', testId: message.testId, commitments };
  }

  #testRound2(message: CeremonyTestRound2): FromNodeCeremonyMessage {
    const which = this.#testShares.get(message.testId);
    if (which === undefined || !this.#nonces.has(message.testId)) throw new CeremonyFailure('protocol', 'no round one for this test id');
    this.#testShares.delete(message.testId);
    const nonces = this.#nonces.take(message.testId);
    const { share, group } = this.#testMaterial(message.ceremonyId, which);
    const pkg = createSigningPackage(ceremonyTestMessage(message.ceremonyId, message.testId), message.commitments);
    const signatureShare = signShare(share, group, nonces, pkg);
    this.#options.failpoint?.('refresh.after_S4');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_test_share', testId: message.testId, signatureShare };
  }

  /** S6/S7 on commit; on abort the pending share is destroyed. Idempotent either way. */
  async #decide(message: CeremonyDecision): Promise<FromNodeCeremonyMessage> {
    const config = this.#options.config();
    const pending = this.#pending;
    const active = this.#active;
    if (active?.reshare && active.ceremonyId === message.ceremonyId && active.reshare.newIdentifier === null) {
      // Retired by this reshare: nothing pending; on commit the share file goes.
      this.#discardActive();
      if (message.decision === 'commit') {
        this.#options.files.retire();
        this.#options.logger.info('reshare: retired, share destroyed', { ceremonyId: message.ceremonyId });
        this.#step(message.ceremonyId, 'S6.retired', `left out of epoch ${message.toEpoch}: share file destroyed`);
        this.#options.onRetired?.();
      }
      return { ...this.#header(message.ceremonyId), type: 'ceremony_ack', decision: message.decision };
    }
    if (message.decision === 'abort') {
      if (this.#active?.ceremonyId === message.ceremonyId) this.#discardActive();
      if (pending?.ceremonyId === message.ceremonyId) {
        if (pending.committed) throw new CeremonyFailure('protocol', 'the commit decision is already recorded');
        this.#options.files.discardPending();
        this.#pending = null;
        this.#options.logger.info('refresh: aborted, pending share destroyed', { ceremonyId: message.ceremonyId });
        this.#step(message.ceremonyId, 'abort', `pending share for epoch ${pending.toEpoch} destroyed`);
      }
      return { ...this.#header(message.ceremonyId), type: 'ceremony_ack', decision: 'abort' };
    }
    if (!pending || pending.ceremonyId !== message.ceremonyId) {
      // Already switched (a repeated decision after a lost ack): say so again.
      if (config?.epoch === message.toEpoch && !pending) return { ...this.#header(message.ceremonyId), type: 'ceremony_ack', decision: 'commit' };
      throw new CeremonyFailure('unknown_ceremony', 'no pending share for this ceremony');
    }
    if (pending.toEpoch !== message.toEpoch) throw new CeremonyFailure('bad_params', 'decision is for another epoch');
    const files = this.#options.files;
    files.markCommitted();
    pending.committed = true;
    this.#options.failpoint?.('refresh.before_S6');
    files.switchEpoch();
    this.#options.failpoint?.('refresh.after_S6');
    files.finishSwitch();
    this.#pending = null;
    await this.#options.onSwitched();
    this.#options.logger.info('refresh: switched epoch, old share destroyed', { ceremonyId: message.ceremonyId, epoch: message.toEpoch });
    this.#step(message.ceremonyId, 'S6.switched', `epoch ${message.toEpoch} in service; old share file destroyed`);
    this.#options.failpoint?.('refresh.after_S7');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_ack', decision: 'commit' };
  }

  /** A log write that fails is reported, never fatal: the ceremony's own files are the authority. */
  #step(ceremonyId: CeremonyId, step: string, detail: string): void {
    try {
      this.#options.log?.({ ceremonyId, step, detail });
    } catch (error) {
      this.#options.logger.error('node log write failed', { step, error: String(error) });
    }
  }

  #discardDkg(): void {
    this.#dkg?.state.discard();
    this.#dkg = undefined;
  }

  /**
   * DKG D1 (issue 7, `keygen --dkg`): only a joining node takes part (a member already has a key);
   * the parameters must name it exactly once among members 1..n, with distinct hosts and a sane
   * (k, n). It commits to a fresh polynomial and sends the commitments and proof of knowledge. A
   * repeated start of the same ceremony (a resend) gets the same answer, never a new polynomial.
   */
  #startDkg(message: CeremonyDkgStart): FromNodeCeremonyMessage {
    const joining = this.#options.joining;
    if (this.#options.config() || !joining) throw new CeremonyFailure('bad_params', 'this node already holds a share: DKG creates a new group among joining nodes');
    const { params } = message;
    if (computeDkgCeremonyId(params) !== message.ceremonyId) throw new CeremonyFailure('bad_params', 'ceremony id does not match its parameters');
    if (message.groupId !== NO_GROUP_ID || message.epoch !== 0) throw new CeremonyFailure('bad_params', 'a DKG has no group yet: zero group id, epoch 0');
    const ageSec = Math.abs(this.#options.nowSec() - params.createdAtSec);
    if (ageSec > (this.#options.maxParamsAgeSec ?? 600)) throw new CeremonyFailure('bad_params', 'ceremony parameters are stale');
    const { members, threshold, maxSigners } = params;
    if (members.length !== maxSigners || threshold > maxSigners) throw new CeremonyFailure('bad_params', '(k, n) does not match the members');
    if (!members.every((m, i) => m.identifier === identifierFromIndex(i + 1))) throw new CeremonyFailure('bad_params', 'the members must be indices 1..n in order');
    if (new Set(members.map((m) => m.nodePubkey)).size !== members.length) throw new CeremonyFailure('bad_params', 'two members share a host key');
    const mine = members.find((m) => m.nodePubkey === joining.nodePubkey);
    if (!mine) throw new CeremonyFailure('bad_params', 'this joining node is not among the members');
    if (this.#dkg?.ceremonyId === message.ceremonyId && this.#dkg.phase === 'committed') return this.#dkgRound1Reply(this.#dkg);
    if (this.#pending && (this.#pending.committed || this.#pending.ceremonyId === message.ceremonyId)) {
      throw new CeremonyFailure('pending_decision', `ceremony ${this.#pending.ceremonyId.slice(0, 12)} awaits a decision`);
    }
    if (this.#pending) {
      // A stale pending share of a joining node was never in force anywhere: drop it.
      this.#options.files.discardPending();
      this.#pending = null;
    }
    this.#discardActive();
    this.#discardDkg();
    this.#joinedBy = { groupId: NO_GROUP_ID, epoch: 0 };
    const { state, message: round1 } = startDkg({ identifier: mine.identifier, threshold, maxSigners });
    this.#dkg = { ceremonyId: message.ceremonyId, params, me: mine.identifier, state, round1, phase: 'committed' };
    this.#step(message.ceremonyId, 'dkg.D1.committed', `index ${members.indexOf(mine) + 1} of ${threshold}-of-${maxSigners}`);
    this.#options.logger.info('dkg: committed', { ceremonyId: message.ceremonyId, shape: `${threshold}-of-${maxSigners}` });
    return this.#dkgRound1Reply(this.#dkg);
  }

  #dkgRound1Reply(dkg: ActiveDkg): FromNodeCeremonyMessage {
    return { ...this.#header(dkg.ceremonyId), type: 'ceremony_dkg_round1', identifier: dkg.me, commitments: [...dkg.round1.commitments], proofOfKnowledge: dkg.round1.proofOfKnowledge };
  }

  #dkgFor(ceremonyId: CeremonyId, phase: ActiveDkg['phase']): ActiveDkg {
    const dkg = this.#dkg;
    if (!dkg || dkg.ceremonyId !== ceremonyId) throw new CeremonyFailure('unknown_ceremony', 'no such DKG in progress');
    if (dkg.phase !== phase) throw new CeremonyFailure('protocol', `DKG is past ${phase}`);
    return dkg;
  }

  /**
   * DKG D2: checks every participant's proof of knowledge and commitments (dealDkg names each
   * culprit), then seals one sub-share to each participant and our echo of all commitment vectors
   * to each other participant: NIP-44 node to node, which the coordinator relays but cannot open.
   */
  #dealDkg(message: CeremonyDkgRound1s): FromNodeCeremonyMessage {
    const dkg = this.#dkgFor(message.ceremonyId, 'committed');
    const { subShares, echo } = dealDkg(dkg.state, message.round1);
    dkg.phase = 'dealt';
    const sealed: Record<string, string> = {};
    try {
      for (const subShare of subShares) {
        const recipient = this.#memberKey(subShare.recipient, dkg.params.members);
        sealed[subShare.recipient] = this.#options.codec.encrypt(
          recipient,
          JSON.stringify({ v: CEREMONY_PROTOCOL_VERSION, type: 'sub_share', ceremonyId: dkg.ceremonyId, dealer: dkg.me, recipient: subShare.recipient, subShare: subShare.toMessage() }),
        );
      }
    } finally {
      for (const subShare of subShares) subShare.discard();
    }
    const echoes = this.#sealEchoes(dkg.ceremonyId, dkg.me, dkg.params.members, echo);
    this.#step(dkg.ceremonyId, 'dkg.D2.dealt', 'every proof of knowledge verified; sub-shares sealed to each participant');
    return { ...this.#header(dkg.ceremonyId), type: 'ceremony_dkg_round2', digest: echo.digest, sealed, echoes };
  }

  /**
   * DKG D3: compares every echo with ours (equivocation -> commitment_mismatch naming the dealer),
   * checks each sub-share against its dealer's commitments (Feldman), sums, and makes the pending
   * share durable before saying so. The commit decision enrols this node at epoch 0.
   */
  async #finishDkg(message: CeremonyDkgRound2s): Promise<FromNodeCeremonyMessage> {
    const dkg = this.#dkgFor(message.ceremonyId, 'dealt');
    const { members } = dkg.params;
    const open = <T>(from: FrostIdentifier, sealed: string, parse: (value: unknown) => T | undefined): T | 'undecryptable' => {
      try {
        return parse(JSON.parse(this.#options.codec.decrypt(this.#memberKey(from, members), sealed))) ?? 'undecryptable';
      } catch (error) {
        if (error instanceof CeremonyFailure) throw error;
        return 'undecryptable';
      }
    };
    const subShares: Record<string, unknown> = {};
    for (const [dealer, sealed] of Object.entries(message.subShares) as [FrostIdentifier, string][]) {
      subShares[dealer] = open(dealer, sealed, (value) => {
        const parsed = sealedSubShareSchema.safeParse(value);
        return parsed.success && parsed.data.ceremonyId === dkg.ceremonyId && parsed.data.dealer === dealer && parsed.data.recipient === dkg.me ? parsed.data.subShare : undefined;
      });
    }
    const echoes: Record<string, unknown> = {};
    for (const [from, sealed] of Object.entries(message.echoes) as [FrostIdentifier, string][]) {
      echoes[from] = open(from, sealed, (value) => {
        const parsed = sealedEchoSchema.safeParse(value);
        return parsed.success && parsed.data.ceremonyId === dkg.ceremonyId && parsed.data.from === from && parsed.data.to === dkg.me ? parsed.data.echo : undefined;
      });
    }
    this.#dkg = undefined;
    const { group, share } = finishDkg(dkg.state, subShares, echoes);
    try {
      const file = await this.#options.files.writePending({ ceremonyId: dkg.ceremonyId, fromEpoch: 0, toEpoch: 0, group, share, kind: 'dkg', members }, this.#nodeSecretKey());
      this.#pending = { ceremonyId: dkg.ceremonyId, fromEpoch: 0, toEpoch: 0, group, groupDigest: file.groupDigest, share, committed: false, kind: 'dkg', members };
    } catch (error) {
      throw new CeremonyFailure('store_failed', `pending share not stored: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#options.logger.info('dkg: pending share stored', { ceremonyId: dkg.ceremonyId });
    this.#step(dkg.ceremonyId, 'dkg.D3.pending', `pending share stored; ${group.threshold}-of-${group.maxSigners}, group ${this.#pending.groupDigest.slice(0, 16)}`);
    this.#options.failpoint?.('dkg.after_D3');
    return { ...this.#header(dkg.ceremonyId), type: 'ceremony_pending', toEpoch: 0, groupDigest: groupPackageDigest(group), group };
  }

  #discardActive(): void {
    this.#active?.pending?.discard();
    this.#active?.reshare?.pending?.discard();
    this.#active = undefined;
  }

  /**
   * S1 of a reshare (k, n) -> (k', n'), same group key: the parameters must describe our group at
   * our epoch (a joining node checks them for consistency and finds itself among the new members),
   * the dealers are >= k old members, the new members are indices 1..n' and an index kept keeps its
   * host (moving an index is repair). A dealer deals; everyone else says it is ready.
   */
  #startReshare(message: CeremonyStart): FromNodeCeremonyMessage {
    const config = this.#options.config();
    const { params } = message;
    if (computeCeremonyId(params) !== message.ceremonyId) throw new CeremonyFailure('bad_params', 'ceremony id does not match its parameters');
    const ageSec = Math.abs(this.#options.nowSec() - params.createdAtSec);
    if (ageSec > (this.#options.maxParamsAgeSec ?? 600)) throw new CeremonyFailure('bad_params', 'ceremony parameters are stale');
    const { fromMembers, newMembers } = params;
    if (!fromMembers || !newMembers || params.fromGroup === undefined) throw new CeremonyFailure('bad_params', 'a reshare names the old group, old members and new members');
    let fromGroup: GroupPackage;
    try {
      fromGroup = parseGroupPackage(params.fromGroup);
    } catch (error) {
      throw new CeremonyFailure('bad_params', `old group: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (fromGroup.groupKey !== params.groupKey || computeGroupId({ ...fromGroup, members: fromMembers }) !== params.groupId) throw new CeremonyFailure('bad_params', 'the old group does not match the group id');
    if (params.threshold !== fromGroup.threshold || params.maxSigners !== fromGroup.maxSigners) throw new CeremonyFailure('bad_params', 'old (k, n) does not match the old group');
    if (params.toEpoch !== params.fromEpoch + 1) throw new CeremonyFailure('bad_params', 'a reshare creates the next epoch');
    if (newMembers.length !== params.newMaxSigners || params.newThreshold > params.newMaxSigners) throw new CeremonyFailure('bad_params', 'new (k, n) does not match the new members');
    const expected = newMembers.map((_, i) => identifierFromIndex(i + 1));
    if (!newMembers.every((m, i) => m.identifier === expected[i]) || [...params.participants].sort().join() !== [...expected].sort().join()) {
      throw new CeremonyFailure('bad_params', 'the new members must be indices 1..n\' in order');
    }
    const oldIds = new Set(fromMembers.map((m) => m.identifier));
    if (params.dealers.length < fromGroup.threshold || !params.dealers.every((d) => oldIds.has(d))) throw new CeremonyFailure('bad_params', `a reshare needs at least ${fromGroup.threshold} old members as dealers`);
    const moved = newMembers.filter((member) => fromMembers.some((m) => m.identifier === member.identifier && m.nodePubkey !== member.nodePubkey));
    if (params.kind === 'reshare' && moved.length > 0) throw new CeremonyFailure('bad_params', `${moved[0]!.label} would move to another host (use repair)`);
    if (params.kind === 'repair') {
      // Repair: the same (k, n), exactly one index re-enrolled on a new host; its old holder deals nothing.
      if (params.newThreshold !== fromGroup.threshold || params.newMaxSigners !== fromGroup.maxSigners || moved.length !== 1) {
        throw new CeremonyFailure('bad_params', 'a repair keeps (k, n) and moves exactly one index to a new host');
      }
      if (params.dealers.includes(moved[0]!.identifier)) throw new CeremonyFailure('bad_params', 'the lost index cannot help repair itself');
    }
    const myPubkey = config ? fromMembers.find((m) => m.identifier === config.share.identifier)?.nodePubkey : this.#options.joining?.nodePubkey;
    if (config) {
      if (params.groupId !== config.groupId || groupPackageDigest(fromGroup) !== groupPackageDigest(config.group)) throw new CeremonyFailure('bad_params', 'not this group');
      if (params.fromEpoch !== config.epoch || message.epoch !== config.epoch) throw new CeremonyFailure('wrong_epoch', `this node is on epoch ${config.epoch}`);
      if (myPubkey === undefined) throw new CeremonyFailure('bad_params', 'this node is not an old member');
    }
    const mine = newMembers.find((m) => m.nodePubkey === myPubkey);
    if (!config && !mine) throw new CeremonyFailure('bad_params', 'this joining node is not among the new members');
    if (this.#pending && this.#pending.ceremonyId !== message.ceremonyId) {
      if (config || this.#pending.committed) throw new CeremonyFailure('pending_decision', `epoch ${this.#pending.toEpoch} of ceremony ${this.#pending.ceremonyId.slice(0, 12)} awaits a decision`);
      // A joining node's stale pending share was never in force anywhere: drop it.
      this.#options.files.discardPending();
      this.#pending = null;
    }
    if (this.#pending) throw new CeremonyFailure('pending_decision', 'this ceremony already has a pending share');
    this.#discardActive();
    if (!config) this.#joinedBy = { groupId: params.groupId, epoch: params.fromEpoch };
    this.#active = { ceremonyId: message.ceremonyId, start: message, phase: 'dealt', reshare: { fromGroup, fromMembers, newMembers, newIdentifier: mine?.identifier ?? null } };
    const me = config?.share.identifier;
    if (!config || me === undefined || !params.dealers.includes(me)) {
      this.#step(message.ceremonyId, `${params.kind}.S1.ready`, `${mine ? `receives index ${newMembers.indexOf(mine) + 1}` : 'retires'} in epoch ${params.toEpoch}, ${params.newThreshold}-of-${params.newMaxSigners}`);
      return { ...this.#header(message.ceremonyId), type: 'ceremony_ready', identifier: mine?.identifier ?? me! };
    }
    const { message: commitments, subShares } = dealReshare({ share: config.share, group: config.group, dealers: params.dealers, next: { threshold: params.newThreshold, maxSigners: params.newMaxSigners } });
    const sealed: Record<string, string> = {};
    try {
      for (const subShare of subShares) {
        const recipient = newMembers.find((m) => m.identifier === subShare.recipient)!;
        sealed[subShare.recipient] = this.#options.codec.encrypt(
          recipient.nodePubkey,
          JSON.stringify({ v: CEREMONY_PROTOCOL_VERSION, type: 'sub_share', ceremonyId: message.ceremonyId, dealer: me, recipient: subShare.recipient, subShare: subShare.toMessage() }),
        );
      }
    } finally {
      for (const subShare of subShares) subShare.discard();
    }
    this.#step(message.ceremonyId, `${params.kind}.S1.dealt`, `epoch ${params.fromEpoch} -> ${params.toEpoch}, ${params.threshold}-of-${params.maxSigners} -> ${params.newThreshold}-of-${params.newMaxSigners}`);
    this.#options.logger.info(`${params.kind}: dealt`, { ceremonyId: message.ceremonyId, toEpoch: params.toEpoch, next: `${params.newThreshold}-of-${params.newMaxSigners}` });
    this.#options.failpoint?.('reshare.after_S1');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_contribution', commitments: commitments.commitments, sealed };
  }

  /** S2 of a reshare (new members only): open and verify every dealer's sub-share against the OLD verifying shares, echo. */
  #deliverReshare(message: CeremonyDeliver): FromNodeCeremonyMessage {
    const active = this.#activeFor(message.ceremonyId, 'dealt');
    const reshare = active.reshare!;
    const me = reshare.newIdentifier;
    if (me === null) throw new CeremonyFailure('protocol', 'this node receives no share in this reshare');
    const { params } = active.start;
    const commitments: Record<string, unknown> = {};
    const subShares: Record<string, unknown> = {};
    for (const [dealer, contribution] of Object.entries(message.contributions) as [FrostIdentifier, { commitments: string[]; sealed: string }][]) {
      commitments[dealer] = { commitments: contribution.commitments };
      subShares[dealer] = this.#openSubShare(message.ceremonyId, dealer, me, contribution.sealed, reshare.fromMembers);
    }
    const pending = verifyReshare({ group: reshare.fromGroup, dealers: params.dealers, next: { threshold: params.newThreshold, maxSigners: params.newMaxSigners }, identifier: me, commitments, subShares });
    reshare.pending = pending;
    active.phase = 'verified';
    const sealed = this.#sealEchoes(message.ceremonyId, me, reshare.newMembers, pending.echo);
    return { ...this.#header(message.ceremonyId), type: 'ceremony_echo', digest: pending.echo.digest, sealed };
  }

  /** S2/S3 of a reshare: compare echoes, compute the new group and our share, make it durable, then say so. */
  async #echoesReshare(message: CeremonyEchoes): Promise<FromNodeCeremonyMessage> {
    const active = this.#activeFor(message.ceremonyId, 'verified');
    const reshare = active.reshare!;
    const me = reshare.newIdentifier!;
    const echoes: Record<string, unknown> = {};
    for (const [from, sealed] of Object.entries(message.echoes) as [FrostIdentifier, string][]) {
      let opened: unknown;
      try {
        const parsed = sealedEchoSchema.safeParse(JSON.parse(this.#options.codec.decrypt(this.#memberKey(from, reshare.newMembers), sealed)));
        if (parsed.success && parsed.data.ceremonyId === message.ceremonyId && parsed.data.from === from && parsed.data.to === me) opened = parsed.data.echo;
      } catch (error) {
        if (error instanceof CeremonyFailure) throw error;
      }
      echoes[from] = opened ?? 'undecryptable';
    }
    const pendingReshare = reshare.pending!;
    reshare.pending = undefined;
    this.#active = undefined;
    const { group, share } = finishReshare(pendingReshare, echoes);
    const { params } = active.start;
    try {
      const file = await this.#options.files.writePending(
        { ceremonyId: message.ceremonyId, fromEpoch: params.fromEpoch, toEpoch: params.toEpoch, group, share, kind: params.kind, members: reshare.newMembers },
        this.#nodeSecretKey(),
      );
      this.#pending = { ceremonyId: message.ceremonyId, fromEpoch: params.fromEpoch, toEpoch: params.toEpoch, group, groupDigest: file.groupDigest, share, committed: false, kind: params.kind, members: reshare.newMembers };
    } catch (error) {
      throw new CeremonyFailure('store_failed', `pending share not stored: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#options.logger.info(`${params.kind}: pending share stored`, { ceremonyId: message.ceremonyId, toEpoch: params.toEpoch });
    this.#step(message.ceremonyId, `${params.kind}.S3.pending`, `pending share for epoch ${params.toEpoch} stored; ${group.threshold}-of-${group.maxSigners}`);
    this.#options.failpoint?.('reshare.after_S3');
    return { ...this.#header(message.ceremonyId), type: 'ceremony_pending', toEpoch: params.toEpoch, groupDigest: groupPackageDigest(group), group };
  }

  #failed(ceremonyId: CeremonyId, error: unknown): FromNodeCeremonyMessage {
    let code: CeremonyFailureCode = 'protocol';
    let culprits: readonly FrostIdentifier[] = [];
    if (error instanceof CeremonyFailure) {
      code = error.code;
      culprits = error.culprits;
    } else if (error instanceof CommitmentMismatchError) {
      code = 'commitment_mismatch';
      culprits = error.dealers;
    } else if (error instanceof CeremonyError) {
      code = 'contribution_rejected';
      culprits = error.rejections.map((r) => r.from);
    }
    if (code !== 'frozen' && code !== 'pending_decision' && this.#active?.ceremonyId === ceremonyId) this.#discardActive();
    if (code !== 'frozen' && code !== 'pending_decision' && this.#dkg?.ceremonyId === ceremonyId) this.#discardDkg();
    const reason = error instanceof Error ? error.message : String(error);
    if (!(error instanceof CeremonyFailure) && !(error instanceof FrostbunkerError)) this.#options.logger.error('ceremony step failed', { error: reason });
    this.#options.logger.warn('ceremony refused', { ceremonyId, code, reason });
    this.#step(ceremonyId, `refused.${code}`, `${reason.slice(0, 200)}${culprits.length ? ` (culprits ${culprits.map((c) => c.slice(0, 12)).join(', ')})` : ''}`);
    return { ...this.#header(ceremonyId), type: 'ceremony_failed', code, reason: reason.slice(0, 400), culprits: [...culprits] };
  }
}
