import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { npubEncode } from 'nostr-tools/nip19';
import {
  aggregateSignature,
  createSigningPackage,
  groupXOnlyKey,
  hexToBytes,
  identifierFromIndex,
  parseGroupPackage,
  verifySchnorr,
  type GroupPackage,
  type SigningCommitments,
} from '@frostbunker/shared/crypto';
import { timedStep, type DrillStep } from '@frostbunker/coordinator';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';
import {
  CEREMONY_PROTOCOL_VERSION,
  ceremonyTestMessage,
  computeDkgCeremonyId,
  groupPackageDigest,
  NO_GROUP_ID,
  type CeremonyFailed,
  type CeremonyId,
  type DkgParams,
  type FromNodeCeremonyMessage,
  type FrostIdentifier,
  type GroupMember,
  type SessionId,
  type ToNodeCeremonyMessage,
} from '@frostbunker/shared/protocol';
import type { ReceivedMessage, Transport } from '@frostbunker/shared/transport';

/** One timed step of a DKG (D1..D6), like a drill's S-steps. */
export type DkgStep = DrillStep;

export interface DkgReport {
  v: 1;
  kind: 'dkg';
  outcome: 'committed' | 'aborted';
  ceremonyId: string;
  startedAt: string;
  finishedAt: string;
  threshold: number;
  maxSigners: number;
  nodes: { label: string; index: number; nodePubkey: string }[];
  /** The new identity (null unless every node agreed on the group). */
  groupKey: string | null;
  npub: string | null;
  groupDigest: string | null;
  steps: DkgStep[];
  totalMs: number;
  testSignature: { signers: string[]; verified: boolean } | null;
  acknowledged: string[];
  notAcknowledged: string[];
  failure: { reason: string; culprits: string[] } | null;
  notes: string[];
}

export interface DkgCeremonyOptions {
  threshold: number;
  /** Joining nodes (`share-node init`), in index order: member i gets index i + 1. */
  members: readonly Omit<GroupMember, 'identifier'>[];
  /** Coordinator <-> node ceremony messages, authenticated as the coordinator the nodes enrolled. */
  transport: Transport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>;
  /**
   * The durable commit decision: writes the coordinator's config.json identity (group, members,
   * epoch 0) atomically. Called once, after the test signature verified; if it throws, the DKG aborts.
   */
  commit: (group: GroupPackage, members: readonly GroupMember[]) => void;
  stepTimeoutMs: number;
  progress: (line: string) => void;
  nowSec: () => number;
  monotonicMs: () => number;
}

const STEP_NAMES: Record<string, string> = {
  D1: 'round one: commitments + proofs of knowledge',
  D2: 'proofs checked; sub-shares sealed node to node',
  D3: 'echoes agreed, Feldman checks, pending shares',
  D4: 'test signature verified under the new key',
  D5: 'commit decision durable (coordinator config)',
  D6: 'nodes enrolled at epoch 0 (acknowledged)',
};

type ByType<T extends FromNodeCeremonyMessage['type']> = Extract<FromNodeCeremonyMessage, { type: T }>;

class DkgStop extends Error {
  constructor(
    message: string,
    readonly culprits: string[] = [],
  ) {
    super(message);
  }
}

/**
 * Drives a distributed key generation (issue 7) among joining share nodes from the coordinator's
 * side: D1 every node commits (Feldman commitments + proof of knowledge), D2 the coordinator
 * broadcasts all round-one messages and each node checks every proof and seals one sub-share per
 * participant (NIP-44, node to node: the coordinator relays what it cannot open), D3 each node
 * compares the sealed echoes of all commitment vectors (equivocation aborts, naming the dealer),
 * checks its sub-shares against the commitments, and persists a pending share; every node must
 * report the same group. D4 a test signature with k pending shares verifies under the new key; D5
 * the coordinator's config.json is the commit decision; D6 the nodes enrol at epoch 0. Before D5
 * any failure aborts: the nodes drop everything and no group exists. The group secret is never
 * formed anywhere.
 */
export class DkgCeremony {
  readonly #options: DkgCeremonyOptions;
  readonly #members: GroupMember[];
  readonly #byPubkey: Map<string, GroupMember>;
  readonly #steps: DkgStep[] = [];
  readonly #collectors = new Set<{ ceremonyId: CeremonyId; accept: (member: GroupMember, message: FromNodeCeremonyMessage) => void }>();
  readonly #unsubscribe: () => void;

  constructor(options: DkgCeremonyOptions) {
    this.#options = options;
    this.#members = options.members.map((m, i) => ({ identifier: identifierFromIndex(i + 1), nodePubkey: m.nodePubkey, label: m.label }));
    this.#byPubkey = new Map(this.#members.map((m) => [m.nodePubkey, m]));
    this.#unsubscribe = options.transport.onMessage((received) => this.#onMessage(received));
  }

  close(): void {
    this.#unsubscribe();
  }

  #onMessage({ senderPubkey, message }: ReceivedMessage<FromNodeCeremonyMessage>): void {
    // Blame uses the authenticated sender, never a field of the body.
    const member = this.#byPubkey.get(senderPubkey);
    if (!member) return;
    for (const collector of this.#collectors) if (collector.ceremonyId === message.ceremonyId) collector.accept(member, message);
  }

  #label = (identifier: string): string => this.#members.find((m) => m.identifier === identifier)?.label ?? identifier.slice(0, 12);

  /** One message to each node, one `expect` reply (or failure) from each; silent nodes get the message again every `resendMs`. */
  async #exchange<T extends FromNodeCeremonyMessage['type']>(
    ceremonyId: CeremonyId,
    build: (member: GroupMember) => ToNodeCeremonyMessage,
    expect: T,
    resendMs?: number,
    nodes: readonly GroupMember[] = this.#members,
  ): Promise<{ replies: Map<FrostIdentifier, ByType<T>>; failures: Map<FrostIdentifier, CeremonyFailed>; silent: GroupMember[] }> {
    const replies = new Map<FrostIdentifier, ByType<T>>();
    const failures = new Map<FrostIdentifier, CeremonyFailed>();
    let wake: () => void = () => {};
    const done = new Promise<void>((resolve) => (wake = resolve));
    const collector = {
      ceremonyId,
      accept: (member: GroupMember, message: FromNodeCeremonyMessage) => {
        if (!nodes.includes(member) || replies.has(member.identifier) || failures.has(member.identifier)) return;
        if (message.type === expect) replies.set(member.identifier, message as ByType<T>);
        else if (message.type === 'ceremony_failed') failures.set(member.identifier, message);
        else return;
        if (replies.size + failures.size === nodes.length) wake();
      },
    };
    const send = (members: readonly GroupMember[]) => {
      for (const member of members) this.#options.transport.send(member.nodePubkey, build(member)).catch(() => {});
    };
    this.#collectors.add(collector);
    const timer = setTimeout(() => wake(), this.#options.stepTimeoutMs);
    const resend = resendMs === undefined ? undefined : setInterval(() => send(nodes.filter((m) => !replies.has(m.identifier) && !failures.has(m.identifier))), resendMs);
    try {
      send(nodes);
      await done;
    } finally {
      clearTimeout(timer);
      if (resend) clearInterval(resend);
      this.#collectors.delete(collector);
    }
    return { replies, failures, silent: nodes.filter((m) => !replies.has(m.identifier) && !failures.has(m.identifier)) };
  }

  #requireAll(exchange: { failures: Map<FrostIdentifier, CeremonyFailed>; silent: GroupMember[] }, what: string): void {
    if (exchange.failures.size === 0 && exchange.silent.length === 0) return;
    const parts: string[] = [];
    const culprits = new Set<string>();
    for (const [identifier, failure] of exchange.failures) {
      parts.push(`${this.#label(identifier)}: ${failure.code}: ${failure.reason}`);
      for (const culprit of failure.culprits) culprits.add(this.#label(culprit));
    }
    if (exchange.silent.length > 0) parts.push(`silent: ${exchange.silent.map((m) => m.label).join(', ')}`);
    throw new DkgStop(`${what}: ${parts.join('; ')}`, [...culprits].sort());
  }

  #timed<T>(step: string, run: () => Promise<{ value: T; detail?: string }>): Promise<T> {
    return timedStep({ steps: this.#steps, names: STEP_NAMES, nowMs: this.#options.monotonicMs, progress: this.#options.progress }, step, run);
  }

  async run(): Promise<DkgReport> {
    const { threshold } = this.#options;
    const maxSigners = this.#members.length;
    const startedAtMs = this.#options.monotonicMs();
    const params: DkgParams = {
      kind: 'dkg',
      threshold,
      maxSigners,
      members: this.#members,
      nonce: randomBytes(16).toString('hex'),
      createdAtSec: this.#options.nowSec(),
    };
    const ceremonyId = computeDkgCeremonyId(params);
    const header = { v: CEREMONY_PROTOCOL_VERSION, groupId: NO_GROUP_ID, epoch: 0, ceremonyId } as const;
    const report: DkgReport = {
      v: 1,
      kind: 'dkg',
      outcome: 'aborted',
      ceremonyId,
      startedAt: new Date(this.#options.nowSec() * 1000).toISOString(),
      finishedAt: '',
      threshold,
      maxSigners,
      nodes: this.#members.map((m, i) => ({ label: m.label, index: i + 1, nodePubkey: m.nodePubkey })),
      groupKey: null,
      npub: null,
      groupDigest: null,
      steps: this.#steps,
      totalMs: 0,
      testSignature: null,
      acknowledged: [],
      notAcknowledged: [],
      failure: null,
      notes: [],
    };
    let committed = false;
    try {
      const round1 = await this.#timed('D1', async () => {
        const exchange = await this.#exchange(ceremonyId, () => ({ ...header, type: 'ceremony_dkg_start', params }), 'ceremony_dkg_round1', 1_500);
        this.#requireAll(exchange, 'round one');
        for (const [identifier, reply] of exchange.replies) {
          if (reply.identifier !== identifier) throw new DkgStop(`${this.#label(identifier)} committed under another index`, [this.#label(identifier)]);
        }
        return { value: exchange.replies, detail: `${exchange.replies.size} of ${maxSigners} committed` };
      });
      const broadcast = Object.fromEntries([...round1].map(([id, r]) => [id, { commitments: r.commitments, proofOfKnowledge: r.proofOfKnowledge }]));
      const round2 = await this.#timed('D2', async () => {
        const exchange = await this.#exchange(ceremonyId, () => ({ ...header, type: 'ceremony_dkg_round1s', round1: broadcast }), 'ceremony_dkg_round2');
        this.#requireAll(exchange, 'round two');
        const digests = new Set([...exchange.replies.values()].map((r) => r.digest));
        return { value: exchange.replies, detail: `${digests.size === 1 ? 'one commitment hash' : `${digests.size} commitment hashes (echo round decides)`}` };
      });
      const group = await this.#timed('D3', async () => {
        const exchange = await this.#exchange(
          ceremonyId,
          (member) => ({
            ...header,
            type: 'ceremony_dkg_round2s',
            subShares: Object.fromEntries([...round2].flatMap(([dealer, r]) => (r.sealed[member.identifier] === undefined ? [] : [[dealer, r.sealed[member.identifier]!]]))),
            echoes: Object.fromEntries([...round2].flatMap(([from, r]) => (from === member.identifier || r.echoes[member.identifier] === undefined ? [] : [[from, r.echoes[member.identifier]!]]))),
          }),
          'ceremony_pending',
        );
        this.#requireAll(exchange, 'finish');
        const digests = new Set([...exchange.replies.values()].map((r) => r.groupDigest));
        if (digests.size !== 1) throw new DkgStop(`the nodes computed ${digests.size} different groups`);
        const group = parseGroupPackage([...exchange.replies.values()][0]!.group);
        if (groupPackageDigest(group) !== [...digests][0] || group.threshold !== threshold || group.maxSigners !== maxSigners) throw new DkgStop('the group the nodes reported does not match its digest or (k, n)');
        report.groupKey = group.groupKey;
        report.npub = npubEncode(groupXOnlyKey(group));
        report.groupDigest = groupPackageDigest(group);
        return { value: group, detail: `group ${report.npub}` };
      });
      await this.#timed('D4', async () => {
        const signers = this.#members.slice(0, threshold);
        await this.#testSignature(ceremonyId, header, group, signers);
        report.testSignature = { signers: signers.map((m) => m.label), verified: true };
        return { value: undefined, detail: `pending shares of ${signers.map((m) => m.label).join(', ')}` };
      });
      await this.#timed('D5', async () => {
        this.#options.commit(group, this.#members);
        committed = true;
        return { value: undefined, detail: 'coordinator config.json written (epoch 0)' };
      });
      report.outcome = 'committed';
      await this.#timed('D6', async () => {
        const exchange = await this.#exchange(ceremonyId, () => ({ ...header, type: 'ceremony_decision', decision: 'commit', toEpoch: 0 }), 'ceremony_ack', 1_500);
        report.acknowledged = this.#members.filter((m) => exchange.replies.has(m.identifier)).map((m) => m.label);
        report.notAcknowledged = this.#members.filter((m) => !exchange.replies.has(m.identifier)).map((m) => m.label);
        return { value: undefined, detail: `${report.acknowledged.length} of ${maxSigners} enrolled` };
      });
      if (report.notAcknowledged.length > 0) {
        report.notes.push(`not enrolled yet: ${report.notAcknowledged.join(', ')} (their pending share is kept; they enrol when they learn the decision)`);
      }
      report.notes.push('the group secret was never formed: each node holds only its own share; start the coordinator to serve NIP-46');
    } catch (error) {
      const stop = error instanceof DkgStop ? error : new DkgStop(error instanceof Error ? error.message : String(error));
      report.failure = { reason: stop.message, culprits: stop.culprits };
      if (!committed) {
        report.outcome = 'aborted';
        report.groupKey = null;
        report.npub = null;
        // Every node drops its polynomial or pending share; the coordinator wrote nothing.
        await this.#exchange(ceremonyId, () => ({ ...header, type: 'ceremony_decision', decision: 'abort', toEpoch: 0 }), 'ceremony_ack');
        report.notes.push('aborted before the commit: no group exists; run keygen --dkg again (every attempt is a new polynomial)');
      }
    }
    report.finishedAt = new Date(this.#options.nowSec() * 1000).toISOString();
    report.totalMs = Math.round(this.#options.monotonicMs() - startedAtMs);
    return report;
  }

  async #testSignature(ceremonyId: CeremonyId, header: { v: 1; groupId: typeof NO_GROUP_ID; epoch: number; ceremonyId: CeremonyId }, group: GroupPackage, signers: readonly GroupMember[]): Promise<void> {
    const testId = randomBytes(16).toString('hex') as SessionId;
    const round = async <T extends 'ceremony_test_commitments' | 'ceremony_test_share'>(build: () => ToNodeCeremonyMessage, expect: T, what: string) => {
      const exchange = await this.#exchange(ceremonyId, build, expect, undefined, signers);
      this.#requireAll(exchange, what);
      return exchange.replies;
    };
    const r1 = await round(() => ({ ...header, type: 'ceremony_test_round1', testId, share: 'pending' }), 'ceremony_test_commitments', 'test signature round 1');
    const commitments: SigningCommitments[] = signers.map((m) => {
      const c = r1.get(m.identifier)!.commitments;
      if (c.identifier !== m.identifier) throw new DkgStop(`${m.label} committed under another identifier`, [m.label]);
      return c;
    });
    const message = ceremonyTestMessage(ceremonyId, testId);
    const pkg = createSigningPackage(message, commitments);
    const r2 = await round(() => ({ ...header, type: 'ceremony_test_round2', testId, commitments }), 'ceremony_test_share', 'test signature round 2');
    const signature = aggregateSignature(group, pkg, Object.fromEntries([...r2].map(([id, r]) => [id, r.signatureShare])));
    // Independent check: BIP-340 under x(Q), the new npub's key.
    if (!verifySchnorr(hexToBytes(signature), message, hexToBytes(groupXOnlyKey(group)))) throw new DkgStop('test signature does not verify');
  }
}

/** The readable summary written next to the JSON report. */
export function formatDkgReport(report: DkgReport): string {
  const lines = [
    `frostbunker keygen --dkg — ${report.threshold}-of-${report.maxSigners}`,
    `outcome:        ${report.outcome}`,
    `ceremony:       ${report.ceremonyId}`,
    `started:        ${report.startedAt}   finished: ${report.finishedAt}   total: ${report.totalMs} ms`,
    `npub:           ${report.npub ?? '-'}`,
    `group key:      ${report.groupKey ?? '-'}`,
    `nodes:          ${report.nodes.map((n) => `${n.label} (index ${n.index}, ${n.nodePubkey.slice(0, 12)}…)`).join(', ')}`,
    '',
    'steps:',
    ...report.steps.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(3)} ${s.name.padEnd(46)} ${String(s.ms).padStart(6)} ms${s.detail ? `  ${s.detail}` : ''}`),
    '',
    `test signature: ${report.testSignature ? `${report.testSignature.verified ? 'verified' : 'NOT verified'} under the new group key (pending shares of ${report.testSignature.signers.join(', ')})` : '-'}`,
    `acknowledged:   ${report.acknowledged.join(', ') || '-'}`,
    `NOT acknowledged: ${report.notAcknowledged.join(', ') || 'none'}`,
  ];
  if (report.failure) lines.push(`failure:        ${report.failure.reason}${report.failure.culprits.length ? ` (culprits: ${report.failure.culprits.join(', ')})` : ''}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/** Writes `<coordinator-dir>/drills/<timestamp>-dkg.json` and `.txt` (next to the drill reports); returns both paths. */
export function writeDkgReport(coordinatorDir: string, report: DkgReport): { json: string; text: string } {
  const base = join(coordinatorDir, 'drills', `${report.startedAt.replace(/[:.]/g, '-')}-dkg`);
  writeJsonFileAtomic(`${base}.json`, report, 0o600);
  writeFileSync(`${base}.txt`, formatDkgReport(report), { mode: 0o600 });
  return { json: `${base}.json`, text: `${base}.txt` };
}
