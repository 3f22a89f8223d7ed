import { randomBytes } from 'node:crypto';
import { npubEncode } from 'nostr-tools/nip19';
import {
  aggregateSignature,
  createSigningPackage,
  groupXOnlyKey,
  hexToBytes,
  parseGroupPackage,
  verifySchnorr,
  type GroupPackage,
  type SigningCommitments,
} from '@frostbunker/shared/crypto';
import { CheaterError } from '@frostbunker/shared/errors';
import {
  CEREMONY_PROTOCOL_VERSION,
  ceremonyTestMessage,
  computeCeremonyId,
  computeGroupId,
  groupPackageDigest,
  type CeremonyFailed,
  type CeremonyId,
  type CeremonyParams,
  type FromNodeCeremonyMessage,
  type FrostIdentifier,
  type GroupId,
  type SessionId,
  type ToNodeCeremonyMessage,
} from '@frostbunker/shared/protocol';
import type { ReceivedMessage, Transport } from '@frostbunker/shared/transport';
import type { ShareNodeMember, SigningIdentity } from '../signing/identity.js';
import { backupNote, timedStep, type DrillReport, type DrillStep } from './drill-report.js';
import type { DrillState, DrillStateStore } from './drill-state.js';

export interface RefreshDrillOptions {
  identityName: string;
  identity: SigningIdentity;
  /** Coordinator <-> node ceremony messages, authenticated as the enrolled coordinator. */
  transport: Transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>;
  store: DrillStateStore;
  /** Points the coordinator's config.json at the committed epoch (after S5, idempotent); a reshare changes the members too. */
  commitCoordinatorConfig: (group: GroupPackage, epoch: number, members?: readonly ShareNodeMember[]) => void;
  /**
   * A reshare instead of a refresh: the new threshold and the new members, indices 1..n' in order
   * (kept indices on their hosts, new ones on joining nodes made by `share-node init`).
   */
  reshare?: { threshold: number; newMembers: readonly ShareNodeMember[]; repair?: boolean };
  dryRun: boolean;
  /** Deadline for every node exchange. */
  stepTimeoutMs: number;
  progress: (line: string) => void;
  nowSec: () => number;
  monotonicMs: () => number;
  /** Crash-test hook at named points (`refresh.after_S5`…). */
  failpoint?: (name: string) => void;
  /**
   * The coordinator's audit log (hash-chained, in acl.db): start, commit decision, abort, finish.
   * Fails closed for the commit: if the row cannot be written, the drill aborts before S5.
   */
  audit?: (action: string, detail: Record<string, unknown>) => void;
}

type ByType<T extends FromNodeCeremonyMessage['type']> = Extract<FromNodeCeremonyMessage, { type: T }>;

interface Exchange<T extends FromNodeCeremonyMessage['type']> {
  replies: Map<FrostIdentifier, ByType<T>>;
  failures: Map<FrostIdentifier, CeremonyFailed>;
  silent: ShareNodeMember[];
}

interface Collector {
  ceremonyId: CeremonyId;
  accept: (member: ShareNodeMember, message: FromNodeCeremonyMessage) => void;
}

/**
 * What a failpoint throws to stand for a crash (RELIABILITY.md §3): it ends the run at once, with
 * no abort and no report, as SIGKILL would.
 */
export class FailpointCrash extends Error {
  override name = 'FailpointCrash';
}

/** Raised inside a run to end it: the old epoch stays (before S5). */
class DrillStop extends Error {
  constructor(
    readonly outcome: 'aborted' | 'refused',
    message: string,
    readonly culprits: string[] = [],
  ) {
    super(message);
  }
}

const STEP_NAMES: Record<string, string> = {
  S0: 'every node reachable, on the same epoch',
  S1: 'contributions dealt',
  S2: 'contributions verified, commitment hash agreed',
  S3: 'pending shares persisted, new group agreed',
  S4: 'test signature verified; mixed round fails',
  S5: 'commit decision durable at the coordinator',
  S6: 'nodes switched epoch',
  S7: 'old shares destroyed and acknowledged',
};

/**
 * Drives one refresh drill from the coordinator's side (DESIGN.md "Rotation (epochs)";
 * RELIABILITY.md G12): S1 deal, S2 verify + echo, S3 pending shares durable, S4 test signature with
 * the new shares under the unchanged group key and a mixed old+new round that must fail, S5 the
 * durable commit decision, S6/S7 every node switches and acknowledges. Before S5 any failure aborts
 * and the old epoch stays authoritative; after S5 the drill only moves forward, and a later run
 * finishes what an interrupted one committed. The coordinator relays sealed contributions it
 * cannot read, and blames only authenticated senders.
 */
export class RefreshDrill {
  readonly #options: RefreshDrillOptions;
  readonly #byPubkey: Map<string, ShareNodeMember>;
  readonly #collectors = new Set<Collector>();
  readonly #steps: DrillStep[] = [];
  readonly #interrupted: DrillReport['interrupted'] = [];
  #identity: SigningIdentity;
  #unsubscribe: () => void;
  /** Group ids a node may speak under: the one in service, and the new one once committed. */
  readonly #groupIds = new Set<GroupId>();
  /** Old members that answered S0 (the reshare's dealers). */
  #answering: ShareNodeMember[] = [];

  constructor(options: RefreshDrillOptions) {
    this.#options = options;
    this.#identity = options.identity;
    this.#groupIds.add(options.identity.groupId);
    this.#byPubkey = new Map([...(options.reshare?.newMembers ?? []), ...options.identity.members].map((m) => [m.nodePubkey, m]));
    this.#unsubscribe = options.transport.onMessage((received) => this.#onMessage(received));
  }

  close(): void {
    this.#unsubscribe();
  }

  #onMessage({ senderPubkey, message }: ReceivedMessage<FromNodeCeremonyMessage>): void {
    // Blame and bookkeeping use the authenticated sender, never a field of the body.
    const member = this.#byPubkey.get(senderPubkey);
    if (!member || !this.#groupIds.has(message.groupId)) return;
    for (const collector of this.#collectors) if (collector.ceremonyId === message.ceremonyId) collector.accept(member, message);
  }

  #label = (identifier: string): string =>
    [...this.#identity.members, ...(this.#options.reshare?.newMembers ?? [])].find((m) => m.identifier === identifier)?.label ?? identifier.slice(0, 12);

  get #kind(): 'refresh' | 'reshare' | 'repair' {
    return this.#options.reshare ? (this.#options.reshare.repair ? 'repair' : 'reshare') : 'refresh';
  }

  /** Sends one message to each of `nodes` and collects one `expect` reply (or a failure) from each. */
  async #exchange<T extends FromNodeCeremonyMessage['type']>(
    ceremonyId: CeremonyId,
    nodes: readonly ShareNodeMember[],
    build: (member: ShareNodeMember) => ToNodeCeremonyMessage,
    expect: T | readonly T[],
  ): Promise<Exchange<T>> {
    const expected: readonly string[] = typeof expect === 'string' ? [expect] : expect;
    const replies = new Map<FrostIdentifier, ByType<T>>();
    const failures = new Map<FrostIdentifier, CeremonyFailed>();
    const wanted = new Set(nodes.map((m) => m.identifier));
    let wake: () => void = () => {};
    const done = new Promise<void>((resolve) => (wake = resolve));
    const collector: Collector = {
      ceremonyId,
      accept: (member, message) => {
        if (!wanted.has(member.identifier) || replies.has(member.identifier) || failures.has(member.identifier)) return;
        if (expected.includes(message.type)) replies.set(member.identifier, message as ByType<T>);
        else if (message.type === 'ceremony_failed') failures.set(member.identifier, message);
        else return;
        if (replies.size + failures.size === wanted.size) wake();
      },
    };
    this.#collectors.add(collector);
    const timer = setTimeout(() => wake(), this.#options.stepTimeoutMs);
    try {
      for (const member of nodes) {
        this.#options.transport.send(member.nodePubkey, build(member)).catch(() => {
          // A failed publish is silence; the deadline decides.
        });
      }
      await done;
    } finally {
      clearTimeout(timer);
      this.#collectors.delete(collector);
    }
    const silent = nodes.filter((m) => !replies.has(m.identifier) && !failures.has(m.identifier));
    return { replies, failures, silent };
  }

  #header(ceremonyId: CeremonyId) {
    return { v: CEREMONY_PROTOCOL_VERSION, groupId: this.#identity.groupId, epoch: this.#identity.epoch, ceremonyId } as const;
  }

  #timed<T>(step: string, run: () => Promise<{ value: T; detail?: string }>): Promise<T> {
    return timedStep({ steps: this.#steps, names: STEP_NAMES, nowMs: this.#options.monotonicMs, progress: this.#options.progress }, step, run);
  }

  /** Fails the step when any node refused or stayed silent, naming them (and the culprits they named). */
  #requireAll<T extends FromNodeCeremonyMessage['type']>(exchange: Exchange<T>, what: string): void {
    if (exchange.failures.size === 0 && exchange.silent.length === 0) return;
    const parts: string[] = [];
    const culprits = new Set<string>();
    for (const [identifier, failure] of exchange.failures) {
      parts.push(`${this.#label(identifier)}: ${failure.code}: ${failure.reason}`);
      for (const culprit of failure.culprits) culprits.add(this.#label(culprit));
    }
    if (exchange.silent.length > 0) parts.push(`silent: ${exchange.silent.map((m) => m.label).join(', ')}`);
    throw new DrillStop('aborted', `${what}: ${parts.join('; ')}`, [...culprits].sort());
  }

  /** Best-effort audit rows (all but the commit decision, which fails closed). */
  #auditQuietly(action: string, detail: Record<string, unknown>): void {
    try {
      this.#options.audit?.(action, detail);
    } catch (error) {
      this.#options.progress(`warning: audit row ${action} not written: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async run(): Promise<DrillReport> {
    const startedAtMs = this.#options.monotonicMs();
    const startedAt = new Date(this.#options.nowSec() * 1000).toISOString();
    const before = this.#identity;
    const report: DrillReport = {
      v: 1,
      kind: this.#kind,
      identity: this.#options.identityName,
      dryRun: this.#options.dryRun,
      outcome: 'aborted',
      resumed: false,
      ceremonyId: null,
      startedAt,
      finishedAt: startedAt,
      npubBefore: npubEncode(groupXOnlyKey(before.group)),
      npubAfter: npubEncode(groupXOnlyKey(before.group)),
      sameNpub: true,
      epochBefore: before.epoch,
      epochAfter: before.epoch,
      threshold: before.group.threshold,
      maxSigners: before.group.maxSigners,
      nodes: before.members.map((m) => m.label),
      ...(this.#options.reshare
        ? { after: { threshold: this.#options.reshare.threshold, maxSigners: this.#options.reshare.newMembers.length, nodes: this.#options.reshare.newMembers.map((m) => m.label) } }
        : {}),
      steps: this.#steps,
      totalMs: 0,
      testSignature: null,
      mixedRound: null,
      acknowledged: [],
      notAcknowledged: [],
      oldShareFiles: 'unchanged (nothing committed)',
      interrupted: this.#interrupted,
      failure: null,
      notes: [],
    };
    let state: DrillState | null = null;
    try {
      const resumed = await this.#preflight(report);
      if (resumed) {
        state = resumed;
      } else {
        state = await this.#ceremony(report);
      }
    } catch (error) {
      if (error instanceof FailpointCrash) throw error;
      const stop = error instanceof DrillStop ? error : new DrillStop('aborted', error instanceof Error ? error.message : String(error));
      report.outcome = stop.outcome;
      report.failure = { reason: stop.message, culprits: stop.culprits };
      this.#auditQuietly(`drill.${stop.outcome}`, { kind: this.#kind, ceremonyId: report.ceremonyId, reason: stop.message.slice(0, 400), culprits: stop.culprits });
    }
    report.epochAfter = this.#identity.epoch;
    if (report.outcome !== 'committed') delete report.after;
    report.npubAfter = npubEncode(groupXOnlyKey(this.#identity.group));
    report.sameNpub = report.npubAfter === report.npubBefore;
    if (state) report.ceremonyId = state.ceremonyId;
    if (report.outcome === 'committed') {
      report.oldShareFiles = report.notAcknowledged.length === 0
        ? 'destroyed on every node (acknowledged by the nodes; unverifiable from the coordinator)'
        : `acknowledged destroyed by ${report.acknowledged.join(', ') || 'none'}; pending on ${report.notAcknowledged.join(', ')} (re-run the drill to finish them)`;
      report.notes.push(
        'the running coordinator put the new epoch in service when config.json changed (or send it SIGHUP); a stopped one reads it at start',
        backupNote(this.#identity.epoch),
        'a node that kept its old share cannot mix it with new ones, but k old shares still make the old key: a suspected leak of k old shares needs a new npub',
      );
    }
    report.finishedAt = new Date(this.#options.nowSec() * 1000).toISOString();
    report.totalMs = Math.round(this.#options.monotonicMs() - startedAtMs);
    return report;
  }

  /**
   * S0: every node's status. Finishes a committed but unfinished earlier drill (and returns its
   * state), aborts an uncommitted one, and refuses to start unless all n nodes answer, none is
   * frozen and all are on the coordinator's epoch (RELIABILITY.md T21).
   */
  async #preflight(report: DrillReport): Promise<DrillState | null> {
    const probeId = randomBytes(32).toString('hex') as CeremonyId;
    const repaired = this.#options.reshare?.repair ? this.#options.reshare.newMembers : [];
    // A repair's lost node is not asked (it is gone, or about to be replaced).
    const members = this.#identity.members.filter((m) => !repaired.some((n) => n.identifier === m.identifier && n.nodePubkey !== m.nodePubkey));
    const status = await this.#timed('S0', async () => {
      const exchange = await this.#exchange(probeId, members, () => ({ ...this.#header(probeId), type: 'ceremony_status' }), 'ceremony_state');
      return { value: exchange, detail: `${exchange.replies.size} of ${members.length} answered` };
    });
    const previous = this.#options.store.load();
    if (previous && previous.phase !== 'aborted' && previous.identity === this.#options.identityName) {
      if (previous.phase === 'committed' || previous.phase === 'done') {
        const lagging = members.filter((m) => {
          const reply = status.replies.get(m.identifier);
          return reply === undefined ? previous.phase === 'committed' : reply.pending?.ceremonyId === previous.ceremonyId;
        });
        if (previous.phase === 'committed' || lagging.length > 0) {
          this.#options.progress(`resuming committed drill ${previous.ceremonyId.slice(0, 12)}: ${lagging.map((m) => m.label).join(', ') || 'no node'} still to switch`);
          this.#interrupted.push({ ceremonyId: previous.ceremonyId, phase: previous.phase, resolution: 'commit finished' });
          report.resumed = true;
          // A drill stopped before it recorded the acks does not know who switched: ask every
          // member again (a node that already switched acknowledges the repeated decision).
          await this.#commit(previous, report, previous.params.newMembers ? this.#everyone(previous) : previous.phase === 'committed' ? members : lagging);
          report.outcome = 'committed';
          return previous;
        }
      } else {
        this.#options.progress(`aborting interrupted drill ${previous.ceremonyId.slice(0, 12)} (stopped at ${previous.phase}, never committed)`);
        await this.#abort(previous.ceremonyId, members);
        this.#options.store.save({ ...previous, phase: 'aborted' });
        this.#interrupted.push({ ceremonyId: previous.ceremonyId, phase: previous.phase, resolution: 'aborted; old epoch kept' });
      }
    }
    // Pending shares of ceremonies this coordinator never committed are stale: destroy them.
    for (const [identifier, reply] of status.replies) {
      if (reply.pending && !reply.pending.committed) {
        const member = members.find((m) => m.identifier === identifier)!;
        await this.#abort(reply.pending.ceremonyId, [member]);
        if (!this.#interrupted.some((i) => i.ceremonyId === reply.pending!.ceremonyId)) {
          this.#interrupted.push({ ceremonyId: reply.pending.ceremonyId, phase: `pending on ${member.label}`, resolution: 'aborted; old epoch kept' });
        }
      }
    }
    const reshare = this.#options.reshare;
    // A repaired index's old holder is lost: it is neither asked nor a dealer.
    const lost = (m: ShareNodeMember) => reshare?.repair === true && reshare.newMembers.some((n) => n.identifier === m.identifier && n.nodePubkey !== m.nodePubkey);
    this.#answering = members.filter((m) => status.replies.has(m.identifier) && !status.replies.get(m.identifier)!.frozen && status.replies.get(m.identifier)!.identifier === m.identifier && !lost(m));
    if (reshare) {
      // A reshare needs k old members to deal and every kept member to receive; others may be gone.
      const kept = members.filter((m) => reshare.newMembers.some((n) => n.identifier === m.identifier && n.nodePubkey === m.nodePubkey));
      const missing = kept.filter((m) => !this.#answering.includes(m));
      if (missing.length > 0 || this.#answering.length < this.#identity.group.threshold) {
        throw new DrillStop('refused', `${[...new Set([...missing, ...members.filter((m) => !this.#answering.includes(m) && !lost(m))])].map((m) => `${m.label} unreachable or frozen`).join(', ')}; a ${this.#kind} needs ${this.#identity.group.threshold} old members and every kept one`);
      }
      const offEpoch = this.#answering.filter((m) => status.replies.get(m.identifier)!.epoch !== this.#identity.epoch);
      if (offEpoch.length > 0) throw new DrillStop('refused', `${offEpoch.map((m) => m.label).join(', ')} not on epoch ${this.#identity.epoch}`);
      return null;
    }
    if (status.silent.length > 0 || status.failures.size > 0) {
      const missing = [...status.silent.map((m) => m.label), ...[...status.failures.keys()].map(this.#label)];
      throw new DrillStop('refused', `${missing.map((l) => `${l} unreachable`).join(', ')}; refresh needs all ${members.length} (use repair/reshare)`);
    }
    const frozen = members.filter((m) => status.replies.get(m.identifier)!.frozen);
    if (frozen.length > 0) throw new DrillStop('refused', `${frozen.map((m) => m.label).join(', ')} frozen; a refresh needs every node in service`);
    const offEpoch = members.filter((m) => status.replies.get(m.identifier)!.epoch !== this.#identity.epoch);
    if (offEpoch.length > 0) {
      throw new DrillStop('refused', `${offEpoch.map((m) => `${m.label} on epoch ${status.replies.get(m.identifier)!.epoch}`).join(', ')}; the coordinator is on epoch ${this.#identity.epoch}`);
    }
    return null;
  }

  async #ceremony(report: DrillReport): Promise<DrillState> {
    const { group, groupId, epoch } = this.#identity;
    const reshare = this.#options.reshare;
    const oldMembers = this.#identity.members;
    // Refresh: every member deals and receives. Reshare: the old members that answered deal, the
    // new members receive, old members left out only deal (and destroy their share at the commit).
    const dealerMembers = reshare ? this.#answering : oldMembers;
    const members = reshare ? [...reshare.newMembers] : oldMembers;
    const everyone = reshare ? [...dealerMembers, ...members.filter((m) => !dealerMembers.some((d) => d.identifier === m.identifier))] : oldMembers;
    const ids = members.map((m) => m.identifier).sort();
    const params: CeremonyParams = {
      kind: this.#kind,
      groupId,
      groupKey: group.groupKey,
      fromEpoch: epoch,
      toEpoch: epoch + 1,
      threshold: group.threshold,
      maxSigners: group.maxSigners,
      newThreshold: reshare?.threshold ?? group.threshold,
      newMaxSigners: members.length,
      dealers: dealerMembers.map((m) => m.identifier).sort(),
      participants: ids,
      nonce: randomBytes(16).toString('hex'),
      createdAtSec: this.#options.nowSec(),
      ...(reshare
        ? { fromGroup: group, fromMembers: oldMembers.map(({ identifier, nodePubkey, label }) => ({ identifier, nodePubkey, label })), newMembers: members.map(({ identifier, nodePubkey, label }) => ({ identifier, nodePubkey, label })) }
        : {}),
    };
    const ceremonyId = computeCeremonyId(params);
    report.ceremonyId = ceremonyId;
    let state: DrillState = {
      v: 1,
      kind: this.#kind,
      identity: this.#options.identityName,
      ceremonyId,
      params,
      phase: 'started',
      startedAtSec: this.#options.nowSec(),
      acknowledged: [],
    };
    const save = (next: Partial<DrillState>) => {
      state = { ...state, ...next };
      this.#options.store.save(state);
    };
    save({});
    this.#auditQuietly('drill.started', { kind: this.#kind, ceremonyId, fromEpoch: epoch, toEpoch: epoch + 1, from: `${group.threshold}-of-${group.maxSigners}`, to: `${params.newThreshold}-of-${params.newMaxSigners}`, nodes: members.map((m) => m.label) });
    this.#options.progress(
      `${this.#kind} ${ceremonyId.slice(0, 12)}: epoch ${epoch} -> ${epoch + 1}, ${group.threshold}-of-${group.maxSigners} -> ${params.newThreshold}-of-${params.newMaxSigners}, nodes ${members.map((m) => m.label).join(', ')}`,
    );
    try {
      const contributions = await this.#timed('S1', async () => {
        const exchange = await this.#exchange(ceremonyId, everyone, () => ({ ...this.#header(ceremonyId), type: 'ceremony_start', params }), ['ceremony_contribution', 'ceremony_ready']);
        this.#requireAll(exchange, 'dealing');
        const dealt = new Map<FrostIdentifier, ByType<'ceremony_contribution'>>();
        for (const dealer of dealerMembers) {
          const reply = exchange.replies.get(dealer.identifier);
          if (reply?.type !== 'ceremony_contribution') throw new DrillStop('aborted', `${dealer.label} did not deal`);
          dealt.set(dealer.identifier, reply);
        }
        return { value: dealt, detail: `${dealt.size} dealers, sub-shares sealed node to node` };
      });
      this.#options.failpoint?.('refresh.after_S1');

      const echoes = await this.#timed('S2', async () => {
        const exchange = await this.#exchange(
          ceremonyId,
          members,
          (recipient) => ({
            ...this.#header(ceremonyId),
            type: 'ceremony_deliver',
            contributions: Object.fromEntries(
              [...contributions].map(([dealer, c]) => [dealer, { commitments: c.commitments, sealed: c.sealed[recipient.identifier] ?? '' }]),
            ),
          }),
          'ceremony_echo',
        );
        this.#requireAll(exchange, 'verifying');
        const digests = new Set([...exchange.replies.values()].map((e) => e.digest));
        return { value: exchange.replies, detail: digests.size === 1 ? `echo digest ${[...digests][0]!.slice(0, 16)}…` : `${digests.size} different echo digests (nodes will abort)` };
      });
      this.#options.failpoint?.('refresh.after_S2');

      const newGroup = await this.#timed('S3', async () => {
        const exchange = await this.#exchange(
          ceremonyId,
          members,
          (recipient) => ({
            ...this.#header(ceremonyId),
            type: 'ceremony_echoes',
            echoes: Object.fromEntries(
              [...echoes].filter(([from]) => from !== recipient.identifier).map(([from, e]) => [from, e.sealed[recipient.identifier] ?? '']),
            ),
          }),
          'ceremony_pending',
        );
        // Some nodes may have stored a pending share: those are destroyed by the abort below.
        this.#requireAll(exchange, 'echo round');
        const digests = new Set([...exchange.replies.values()].map((p) => p.groupDigest));
        if (digests.size !== 1) throw new DrillStop('aborted', 'nodes computed different new groups');
        const first = parseGroupPackage([...exchange.replies.values()][0]!.group);
        if (groupPackageDigest(first) !== [...digests][0]) throw new DrillStop('aborted', 'the reported group does not match its digest');
        if (first.groupKey !== group.groupKey || first.threshold !== params.newThreshold || first.maxSigners !== params.newMaxSigners) {
          throw new DrillStop('aborted', `the new group changes the key or is not ${params.newThreshold}-of-${params.newMaxSigners}`);
        }
        return { value: first, detail: `group ${[...digests][0]!.slice(0, 16)}… agreed by all ${members.length}` };
      });
      save({ phase: 'pending', newGroup });
      this.#options.failpoint?.('refresh.after_S3');

      await this.#timed('S4', async () => {
        const signers = await this.#testSignature(ceremonyId, newGroup, members.map((m) => ({ member: m, share: 'pending' as const })));
        report.testSignature = { signers: signers.map((m) => m.label), verified: true };
        // The mixed round: a kept member's old share with new shares of the others; max(k, k')
        // signers, since the old share's holder refuses a round below its own (old) threshold.
        const mixedSize = Math.max(params.newThreshold, group.threshold);
        if (mixedSize > members.length) {
          report.notes.push(`no mixed round: ${members.length} new members are fewer than the old threshold ${group.threshold}`);
          return { value: undefined, detail: `all ${signers.length} new shares signed` };
        }
        const [old, ...fresh] = members.slice(0, mixedSize);
        const mixed = await this.#mixedRound(ceremonyId, newGroup, old!, fresh);
        report.mixedRound = mixed;
        if (!mixed.failed || mixed.named.join() !== old!.label) {
          throw new DrillStop('aborted', `a round mixing ${old!.label}'s old share with new shares did not fail naming it`);
        }
        return { value: undefined, detail: `all ${signers.length} new shares signed; ${old!.label}'s old share named in the mixed round` };
      });
      save({ phase: 'tested' });
      this.#options.failpoint?.('refresh.after_S4');
      // Audit fails closed: no commit decision the audit log does not hold.
      if (!this.#options.dryRun) this.#options.audit?.('drill.commit_decided', { kind: this.#kind, ceremonyId, toEpoch: epoch + 1, newGroupDigest: groupPackageDigest(newGroup) });
    } catch (error) {
      if (error instanceof FailpointCrash) throw error;
      await this.#abort(ceremonyId, everyone);
      save({ phase: 'aborted' });
      throw error;
    }
    if (this.#options.dryRun) {
      this.#options.progress('dry run: aborting; the old epoch stays in force');
      const acks = await this.#abort(ceremonyId, everyone);
      save({ phase: 'aborted' });
      report.outcome = 'dry-run';
      report.acknowledged = acks.map((m) => m.label);
      report.notAcknowledged = everyone.filter((m) => !acks.includes(m)).map((m) => m.label);
      return state;
    }
    await this.#timed('S5', async () => {
      save({ phase: 'committed' });
      return { value: undefined, detail: `decision fsynced to ${this.#options.store.path}` };
    });
    this.#options.failpoint?.('refresh.after_S5');
    await this.#commit(state, report, everyone);
    report.outcome = 'committed';
    return state;
  }

  /** Every node a reshare concerns: old members (dealers, kept or retired) and new ones. */
  #everyone(state: DrillState): ShareNodeMember[] {
    const newMembers = state.params.newMembers ?? [];
    // A repair's lost holder is never told anything: it was not part of the ceremony.
    const from = (state.params.fromMembers ?? []).filter((m) => state.params.kind !== 'repair' || newMembers.some((n) => n.identifier === m.identifier && n.nodePubkey === m.nodePubkey));
    const all = [...from, ...newMembers] as ShareNodeMember[];
    return all.filter((m, i) => all.findIndex((o) => o.identifier === m.identifier && o.nodePubkey === m.nodePubkey) === i);
  }

  /** After S5: the coordinator's config, then every node's switch; only moves forward. */
  async #commit(state: DrillState, report: DrillReport, nodes: readonly ShareNodeMember[]): Promise<void> {
    const newGroup = parseGroupPackage(state.newGroup);
    const toEpoch = state.params.toEpoch;
    const newMembers = (state.params.newMembers as ShareNodeMember[] | undefined) ?? this.#identity.members;
    for (const member of nodes) if (!this.#byPubkey.has(member.nodePubkey)) this.#byPubkey.set(member.nodePubkey, member);
    if (this.#identity.epoch !== toEpoch) {
      this.#options.commitCoordinatorConfig(newGroup, toEpoch, state.params.newMembers ? newMembers : undefined);
      this.#identity = { ...this.#identity, group: newGroup, epoch: toEpoch, members: newMembers, groupId: computeGroupId({ ...newGroup, members: newMembers }) };
    }
    this.#groupIds.add(this.#identity.groupId);
    this.#groupIds.add(state.params.groupId);
    this.#options.failpoint?.('refresh.after_config');
    const acks = await this.#timed('S6', async () => {
      const exchange = await this.#exchange(
        state.ceremonyId,
        nodes,
        () => ({ v: CEREMONY_PROTOCOL_VERSION, groupId: state.params.groupId, epoch: state.params.fromEpoch, ceremonyId: state.ceremonyId, type: 'ceremony_decision', decision: 'commit', toEpoch }),
        'ceremony_ack',
      );
      const switched = nodes.filter((m) => exchange.replies.get(m.identifier)?.decision === 'commit');
      return { value: switched, detail: `${switched.length} of ${nodes.length} switched to epoch ${toEpoch}${state.params.newMembers ? ' (or retired)' : ''}` };
    });
    this.#options.failpoint?.('refresh.after_S6');
    const acknowledged = [...new Set([...state.acknowledged, ...acks.map((m) => m.label)])].sort();
    this.#options.store.save({ ...state, phase: 'done', acknowledged });
    const missing = this.#identity.members.filter((m) => !acknowledged.includes(m.label)).map((m) => m.label);
    await this.#timed('S7', async () => ({
      value: undefined,
      detail: missing.length === 0 ? 'every node acknowledged' : `not acknowledged: ${missing.join(', ')}`,
    }));
    this.#options.failpoint?.('refresh.after_S7');
    report.acknowledged = acknowledged;
    report.notAcknowledged = missing;
    this.#auditQuietly('drill.finished', { kind: state.kind, ceremonyId: state.ceremonyId, epoch: toEpoch, acknowledged, notAcknowledged: missing });
  }

  /** Best effort: every node destroys its pending share; returns those that acknowledged. */
  async #abort(ceremonyId: CeremonyId, nodes: readonly ShareNodeMember[]): Promise<ShareNodeMember[]> {
    const exchange = await this.#exchange(
      ceremonyId,
      nodes,
      () => ({ ...this.#header(ceremonyId), type: 'ceremony_decision', decision: 'abort', toEpoch: this.#identity.epoch + 1 }),
      'ceremony_ack',
    );
    return nodes.filter((m) => exchange.replies.has(m.identifier));
  }

  /** One FROST round over the ceremony's test message; returns the signature or the named culprits. */
  async #testRound(
    ceremonyId: CeremonyId,
    group: GroupPackage,
    signers: readonly { member: ShareNodeMember; share: 'pending' | 'current' }[],
  ): Promise<{ signature: string } | { culprits: string[] }> {
    const testId = randomBytes(16).toString('hex') as SessionId;
    const members = signers.map((s) => s.member);
    const round1 = await this.#exchange(
      ceremonyId,
      members,
      (member) => ({ ...this.#header(ceremonyId), type: 'ceremony_test_round1', testId, share: signers.find((s) => s.member === member)!.share }),
      'ceremony_test_commitments',
    );
    this.#requireAll(round1, 'test signature round 1');
    const commitments: SigningCommitments[] = members.map((m) => {
      const c = round1.replies.get(m.identifier)!.commitments;
      if (c.identifier !== m.identifier) throw new DrillStop('aborted', `${m.label} committed under another identifier`);
      return c;
    });
    const message = ceremonyTestMessage(ceremonyId, testId);
    const pkg = createSigningPackage(message, commitments);
    const round2 = await this.#exchange(
      ceremonyId,
      members,
      () => ({ ...this.#header(ceremonyId), type: 'ceremony_test_round2', testId, commitments }),
      'ceremony_test_share',
    );
    this.#requireAll(round2, 'test signature round 2');
    const shares = Object.fromEntries([...round2.replies].map(([id, r]) => [id, r.signatureShare]));
    try {
      const signature = aggregateSignature(group, pkg, shares);
      // Independent check: BIP-340 under x(Q), the npub's key.
      if (!verifySchnorr(hexToBytes(signature), message, hexToBytes(groupXOnlyKey(group)))) throw new DrillStop('aborted', 'test signature does not verify');
      return { signature };
    } catch (error) {
      if (error instanceof CheaterError) return { culprits: error.culprits.map(this.#label) };
      throw error;
    }
  }

  async #testSignature(
    ceremonyId: CeremonyId,
    group: GroupPackage,
    signers: readonly { member: ShareNodeMember; share: 'pending' | 'current' }[],
  ): Promise<ShareNodeMember[]> {
    const outcome = await this.#testRound(ceremonyId, group, signers);
    if ('culprits' in outcome) throw new DrillStop('aborted', `test signature with the new shares failed`, outcome.culprits);
    return signers.map((s) => s.member);
  }

  async #mixedRound(
    ceremonyId: CeremonyId,
    group: GroupPackage,
    old: ShareNodeMember,
    fresh: readonly ShareNodeMember[],
  ): Promise<NonNullable<DrillReport['mixedRound']>> {
    const outcome = await this.#testRound(ceremonyId, group, [
      { member: old, share: 'current' },
      ...fresh.map((member) => ({ member, share: 'pending' as const })),
    ]);
    return {
      oldShareOf: old.label,
      newSharesOf: fresh.map((m) => m.label),
      failed: 'culprits' in outcome,
      named: 'culprits' in outcome ? outcome.culprits : [],
    };
  }
}
