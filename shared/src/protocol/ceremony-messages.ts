/**
 * Key-ceremony messages between the coordinator (the drill) and share nodes (issue 7; DESIGN.md
 * "Rotation (epochs)"). Strict and versioned like node-messages.ts. What the coordinator relays but
 * must not read (sub-shares, echoes) travels NIP-44 encrypted node to node *inside* these messages:
 * the conversation key is ECDH(dealer node key, recipient node key), so only the two nodes can make
 * or open it, which also binds a sealed payload to its dealer (RELIABILITY.md threat "during
 * rotation: reads contributions, swaps them"). Pure: hashing only, no I/O.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { LIMITS } from './limits.js';
import {
  frostIdentifierSchema,
  groupIdSchema,
  groupKey33Schema,
  hexOfBytes,
  sessionIdSchema,
  type FrostIdentifier,
  type GroupId,
} from './brands.js';
import { signingCommitmentsSchema, toNodeMessageSchema, fromNodeMessageSchema } from './node-messages.js';
import { groupMemberSchema } from './enrolment.js';

/** Wire version of ceremony messages; bump on any incompatible change. */
export const CEREMONY_PROTOCOL_VERSION = 1;

/** One ceremony attempt: sha256 of its parameters (so a node recomputes it, never trusts it). */
export const ceremonyIdSchema = hexOfBytes(32).brand<'CeremonyId'>();
export type CeremonyId = z.infer<typeof ceremonyIdSchema>;

/** Ceremony kinds on the wire; share nodes implement `refresh` and `reshare` (@TODO(issue 7): repair). */
export const ceremonyKindSchema = z.enum(['refresh', 'reshare', 'repair']);

const identifiers = z.array(frostIdentifierSchema).min(1).max(255);

/**
 * What the coordinator proposes and every node checks against its own enrolment before dealing:
 * kind, group, the epoch it starts from and the one it creates, old and new (k, n), who deals and
 * who receives. `nonce` makes every attempt a new ceremony id.
 */
export const ceremonyParamsSchema = z.strictObject({
  kind: ceremonyKindSchema,
  groupId: groupIdSchema,
  groupKey: groupKey33Schema,
  fromEpoch: z.number().int().min(0),
  toEpoch: z.number().int().min(1),
  threshold: z.number().int().min(2).max(255),
  maxSigners: z.number().int().min(2).max(255),
  newThreshold: z.number().int().min(2).max(255),
  newMaxSigners: z.number().int().min(2).max(255),
  dealers: identifiers,
  participants: identifiers,
  nonce: hexOfBytes(16),
  createdAtSec: z.number().int().min(0),
  /**
   * Reshare only: the old group's public package and members (a joining node has no enrolment to
   * read them from; old members check them against theirs) and the new members, index by index
   * (node identity keys of the nodes that receive the new shares, joining ones included).
   */
  fromGroup: z.unknown().optional(),
  fromMembers: z.array(groupMemberSchema).min(1).max(255).optional(),
  newMembers: z.array(groupMemberSchema).min(1).max(255).optional(),
});
export type CeremonyParams = z.infer<typeof ceremonyParamsSchema>;

const CEREMONY_ID_TAG = 'frostbunker/ceremony-id/v1';

/** The id of a ceremony: sha256 over a canonical JSON array of its parameters (fixed field order). */
export function computeCeremonyId(params: CeremonyParams): CeremonyId {
  const canonical = JSON.stringify([
    CEREMONY_ID_TAG,
    params.kind,
    params.groupId,
    params.groupKey,
    params.fromEpoch,
    params.toEpoch,
    params.threshold,
    params.maxSigners,
    params.newThreshold,
    params.newMaxSigners,
    [...params.dealers].sort(),
    [...params.participants].sort(),
    params.nonce,
    params.createdAtSec,
    // Absent for refresh, so refresh ids are unchanged.
    ...(params.newMembers === undefined
      ? []
      : [
          params.fromGroup === undefined ? null : bytesToHex(sha256(utf8ToBytes(JSON.stringify(params.fromGroup)))),
          membersCanonical(params.fromMembers ?? []),
          membersCanonical(params.newMembers),
        ]),
  ]);
  return bytesToHex(sha256(utf8ToBytes(canonical))) as CeremonyId;
}

function membersCanonical(members: readonly { identifier: string; nodePubkey: string; label: string }[]): string[][] {
  return [...members].map((m) => [m.identifier, m.nodePubkey, m.label]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

const TEST_MESSAGE_TAG = utf8ToBytes('frostbunker/ceremony-test-signature/v1');

/**
 * The 32-byte message of a ceremony's test signature: a tagged hash, so it is never the NIP-01 id
 * of an event anyone chose (an id is sha256 of a JSON array starting `[0,`), and a node can sign it
 * with a pending or current share outside the veto without signing anything meaningful.
 */
export function ceremonyTestMessage(ceremonyId: CeremonyId, testId: string): Uint8Array {
  return sha256(concatBytes(TEST_MESSAGE_TAG, utf8ToBytes(ceremonyId), Uint8Array.of(0), utf8ToBytes(testId)));
}

/** sha256 over a group package's public fields in a fixed order: what all nodes must agree on. */
export function groupPackageDigest(group: {
  threshold: number;
  maxSigners: number;
  groupKey: string;
  commitments: readonly string[];
  verifyingShares: Readonly<Record<string, string>>;
}): string {
  const shares = Object.keys(group.verifyingShares)
    .sort()
    .map((id) => [id, group.verifyingShares[id]]);
  const canonical = JSON.stringify(['frostbunker/group-package/v1', group.threshold, group.maxSigners, group.groupKey, group.commitments, shares]);
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

/**
 * Header of every ceremony message. `epoch` is the sender's authoritative epoch when it sent the
 * message (the old one until the node has switched).
 */
const header = {
  v: z.literal(CEREMONY_PROTOCOL_VERSION),
  groupId: groupIdSchema,
  epoch: z.number().int().min(0),
  ceremonyId: ceremonyIdSchema,
};

/** A NIP-44 v2 payload (base64); its size is bounded by the whole message's. */
const sealedSchema = z.string().min(1).max(LIMITS.nodeMessageBytes);
const sealedPerMember = z.record(frostIdentifierSchema, sealedSchema).refine((r) => Object.keys(r).length <= 255, 'too many recipients');
const commitmentVector = z.array(hexOfBytes(33)).min(1).max(255);

// --- coordinator -> node ----------------------------------------------------------------------

/**
 * Distributed key generation (issue 7, `keygen --dkg`): a new group among joining nodes (made by
 * `share-node init`), indices 1..n in `members` order. There is no group yet, so messages carry
 * the all-zero group id and epoch 0 until the commit; the ceremony id binds these parameters.
 */
export const dkgParamsSchema = z.strictObject({
  kind: z.literal('dkg'),
  threshold: z.number().int().min(2).max(255),
  maxSigners: z.number().int().min(2).max(255),
  members: z.array(groupMemberSchema).min(2).max(255),
  nonce: hexOfBytes(16),
  createdAtSec: z.number().int().min(0),
});
export type DkgParams = z.infer<typeof dkgParamsSchema>;

/** The group id ceremony messages carry before a DKG group exists. */
export const NO_GROUP_ID = '0'.repeat(64) as GroupId;

const DKG_CEREMONY_ID_TAG = 'frostbunker/dkg-ceremony-id/v1';

/** The id of a DKG ceremony: sha256 over its parameters in a fixed order (members in index order). */
export function computeDkgCeremonyId(params: DkgParams): CeremonyId {
  const canonical = JSON.stringify([
    DKG_CEREMONY_ID_TAG,
    params.threshold,
    params.maxSigners,
    params.members.map((m) => [m.identifier, m.nodePubkey, m.label]),
    params.nonce,
    params.createdAtSec,
  ]);
  return bytesToHex(sha256(utf8ToBytes(canonical))) as CeremonyId;
}

/** A DKG participant's round-one broadcast (shared/crypto/dkg.ts DkgRound1Message, checked there). */
const dkgRound1Body = z.strictObject({ commitments: commitmentVector, proofOfKnowledge: hexOfBytes(64) });

/** DKG round one: the node commits to its polynomial (D1). */
export const ceremonyDkgStartSchema = z.strictObject({ ...header, type: z.literal('ceremony_dkg_start'), params: dkgParamsSchema });

/** DKG round two: every participant's round-one message as the coordinator received it (D2). */
export const ceremonyDkgRound1sSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_dkg_round1s'),
  round1: z.record(frostIdentifierSchema, dkgRound1Body),
});

/** DKG finish: every dealer's sub-share sealed to this recipient, every other participant's sealed echo (D3). */
export const ceremonyDkgRound2sSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_dkg_round2s'),
  subShares: sealedPerMember,
  echoes: sealedPerMember,
});

/** Start a ceremony: the node checks `params` against its enrolment and deals (S1). */
export const ceremonyStartSchema = z.strictObject({ ...header, type: z.literal('ceremony_start'), params: ceremonyParamsSchema });

/** Every dealer's public commitments and the sealed sub-share that dealer made for this recipient. */
export const ceremonyDeliverSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_deliver'),
  contributions: z.record(frostIdentifierSchema, z.strictObject({ commitments: commitmentVector, sealed: sealedSchema })),
});

/** Every other participant's echo, sealed by that participant to this recipient (S2). */
export const ceremonyEchoesSchema = z.strictObject({ ...header, type: z.literal('ceremony_echoes'), echoes: sealedPerMember });

/** Which share a test round uses: the pending one, or the current one (mixed-round check). */
export const testShareSchema = z.enum(['pending', 'current']);

/** Test signature round one: fresh nonces for this test id only (S4). */
export const ceremonyTestRound1Schema = z.strictObject({
  ...header,
  type: z.literal('ceremony_test_round1'),
  testId: sessionIdSchema,
  share: testShareSchema,
});

/** Test signature round two; the node computes the message itself (ceremonyTestMessage). */
export const ceremonyTestRound2Schema = z.strictObject({
  ...header,
  type: z.literal('ceremony_test_round2'),
  testId: sessionIdSchema,
  commitments: z.array(signingCommitmentsSchema).min(1).max(255),
});

/** The coordinator's durable decision (commit only after S5). */
export const ceremonyDecisionSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_decision'),
  decision: z.enum(['commit', 'abort']),
  toEpoch: z.number().int().min(0),
});

/** What a node has on disk: its epoch and any pending one (answered even while frozen). */
export const ceremonyStatusSchema = z.strictObject({ ...header, type: z.literal('ceremony_status') });

// --- node -> coordinator ----------------------------------------------------------------------

/** The dealer's public commitments and one sealed sub-share per participant (itself included). */
export const ceremonyContributionSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_contribution'),
  commitments: commitmentVector,
  sealed: sealedPerMember,
});

/** The node's echo digest (public, for the report) and its echo sealed to each other participant. */
export const ceremonyEchoSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_echo'),
  digest: hexOfBytes(32),
  sealed: sealedPerMember,
});

/** The pending share is durable on the node's disk (S3); the new public group package. */
export const ceremonyPendingSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_pending'),
  // 0 for a DKG (the group's first epoch).
  toEpoch: z.number().int().min(0),
  groupDigest: hexOfBytes(32),
  group: z.unknown(),
});

export const ceremonyTestCommitmentsSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_test_commitments'),
  testId: sessionIdSchema,
  commitments: signingCommitmentsSchema,
});

export const ceremonyTestShareSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_test_share'),
  testId: sessionIdSchema,
  signatureShare: hexOfBytes(32),
});

/** The decision is applied: on commit the node is on `epoch` and its old share file is gone (S7). */
export const ceremonyAckSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_ack'),
  decision: z.enum(['commit', 'abort']),
});

/** DKG round one from a node: its commitments and proof of knowledge, broadcast by the coordinator. */
export const ceremonyDkgRound1Schema = z.strictObject({
  ...header,
  type: z.literal('ceremony_dkg_round1'),
  identifier: frostIdentifierSchema,
  commitments: commitmentVector,
  proofOfKnowledge: hexOfBytes(64),
});

/** DKG round two from a node: one sealed sub-share per participant (itself included) and its sealed echo to each other one. */
export const ceremonyDkgRound2Schema = z.strictObject({
  ...header,
  type: z.literal('ceremony_dkg_round2'),
  digest: hexOfBytes(32),
  sealed: sealedPerMember,
  echoes: sealedPerMember,
});

/** A reshare participant that deals nothing (a joining node, an old member outside the dealer set) is ready (S1). */
export const ceremonyReadySchema = z.strictObject({ ...header, type: z.literal('ceremony_ready'), identifier: frostIdentifierSchema });

export const ceremonyFailureCodeSchema = z.enum([
  'frozen',
  'bad_params',
  'wrong_epoch',
  'unknown_ceremony',
  'pending_decision',
  'contribution_rejected',
  'commitment_mismatch',
  'protocol',
  'store_failed',
]);
export type CeremonyFailureCode = z.infer<typeof ceremonyFailureCodeSchema>;

/** The node refuses or abandons the ceremony; `culprits` as this node saw them (authenticated senders). */
export const ceremonyFailedSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_failed'),
  code: ceremonyFailureCodeSchema,
  reason: z.string().max(LIMITS.refusalReasonChars * 2),
  culprits: z.array(frostIdentifierSchema).max(255),
});

export const ceremonyStateSchema = z.strictObject({
  ...header,
  type: z.literal('ceremony_state'),
  identifier: frostIdentifierSchema,
  frozen: z.boolean(),
  pending: z
    .strictObject({ ceremonyId: ceremonyIdSchema, toEpoch: z.number().int().min(0), committed: z.boolean(), groupDigest: hexOfBytes(32) })
    .nullable(),
});

// --- node <-> node, inside NIP-44 -------------------------------------------------------------

/** A sub-share sealed by `dealer` to `recipient`; `subShare` is ceremony.ts's SubShareMessage. */
export const sealedSubShareSchema = z.strictObject({
  v: z.literal(CEREMONY_PROTOCOL_VERSION),
  type: z.literal('sub_share'),
  ceremonyId: ceremonyIdSchema,
  dealer: frostIdentifierSchema,
  recipient: frostIdentifierSchema,
  subShare: z.unknown(),
});

/** An echo sealed by `from` to `to`; `echo` is ceremony.ts's CommitmentEcho (checked there). */
export const sealedEchoSchema = z.strictObject({
  v: z.literal(CEREMONY_PROTOCOL_VERSION),
  type: z.literal('echo'),
  ceremonyId: ceremonyIdSchema,
  from: frostIdentifierSchema,
  to: frostIdentifierSchema,
  echo: z.unknown(),
});

export const toNodeCeremonyMessageSchema = z.discriminatedUnion('type', [
  ceremonyStartSchema,
  ceremonyDeliverSchema,
  ceremonyEchoesSchema,
  ceremonyTestRound1Schema,
  ceremonyTestRound2Schema,
  ceremonyDecisionSchema,
  ceremonyStatusSchema,
  ceremonyDkgStartSchema,
  ceremonyDkgRound1sSchema,
  ceremonyDkgRound2sSchema,
]);
export type ToNodeCeremonyMessage = z.infer<typeof toNodeCeremonyMessageSchema>;

export const fromNodeCeremonyMessageSchema = z.discriminatedUnion('type', [
  ceremonyContributionSchema,
  ceremonyEchoSchema,
  ceremonyPendingSchema,
  ceremonyTestCommitmentsSchema,
  ceremonyTestShareSchema,
  ceremonyAckSchema,
  ceremonyFailedSchema,
  ceremonyStateSchema,
  ceremonyReadySchema,
  ceremonyDkgRound1Schema,
  ceremonyDkgRound2Schema,
]);
export type FromNodeCeremonyMessage = z.infer<typeof fromNodeCeremonyMessageSchema>;

/** Everything a share node accepts: signing messages (unchanged) and ceremony messages. */
export const toShareNodeMessageSchema = z.union([toNodeMessageSchema, toNodeCeremonyMessageSchema]);
export type ToShareNodeMessage = z.infer<typeof toShareNodeMessageSchema>;

/** Everything a share node sends. */
export const fromShareNodeMessageSchema = z.union([fromNodeMessageSchema, fromNodeCeremonyMessageSchema]);

const CEREMONY_TYPES: ReadonlySet<string> = new Set(toNodeCeremonyMessageSchema.options.map((o) => o.shape.type.value));

/** True for the ceremony half of ToShareNodeMessage. */
export function isCeremonyMessage(message: ToShareNodeMessage): message is ToNodeCeremonyMessage {
  return CEREMONY_TYPES.has(message.type);
}

export type CeremonyHeader = { v: typeof CEREMONY_PROTOCOL_VERSION; groupId: GroupId; epoch: number; ceremonyId: CeremonyId };
export type CeremonyStart = z.infer<typeof ceremonyStartSchema>;
export type CeremonyDeliver = z.infer<typeof ceremonyDeliverSchema>;
export type CeremonyEchoes = z.infer<typeof ceremonyEchoesSchema>;
export type CeremonyTestRound1 = z.infer<typeof ceremonyTestRound1Schema>;
export type CeremonyTestRound2 = z.infer<typeof ceremonyTestRound2Schema>;
export type CeremonyDecision = z.infer<typeof ceremonyDecisionSchema>;
export type CeremonyDkgStart = z.infer<typeof ceremonyDkgStartSchema>;
export type CeremonyDkgRound1s = z.infer<typeof ceremonyDkgRound1sSchema>;
export type CeremonyDkgRound2s = z.infer<typeof ceremonyDkgRound2sSchema>;
export type CeremonyPending = z.infer<typeof ceremonyPendingSchema>;
export type CeremonyFailed = z.infer<typeof ceremonyFailedSchema>;
export type CeremonyState = z.infer<typeof ceremonyStateSchema>;
export type SealedSubShare = z.infer<typeof sealedSubShareSchema>;
export type SealedEcho = z.infer<typeof sealedEchoSchema>;
/** Who a ceremony message is about, in the node's own terms. */
export type CeremonyParticipant = FrostIdentifier;

/**
 * Failpoints for crash tests (RELIABILITY.md §3: `FROSTBUNKER_FAILPOINTS="refresh.after_S3=kill"`):
 * parses the variable into name -> action. Unknown actions are ignored, so a typo never kills.
 */
export function parseFailpoints(spec: string | undefined): ReadonlyMap<string, 'kill' | 'throw'> {
  const points = new Map<string, 'kill' | 'throw'>();
  for (const part of (spec ?? '').split(';')) {
    const [name, action] = part.split('=').map((s) => s.trim());
    if (name && (action === 'kill' || action === 'throw')) points.set(name, action);
  }
  return points;
}
