import { z } from 'zod';
import { LIMITS } from './limits.js';
import { eventIdSchema, frostIdentifierSchema, groupIdSchema, hexOfBytes, sessionIdSchema } from './brands.js';
import { unsignedEventSchema } from './event-template.js';

/** Wire version of coordinator <-> node messages; bump on any incompatible change. */
export const NODE_PROTOCOL_VERSION = 1;

/**
 * Wire version of the one-round messages (pre-shared commitments, issue 9). The two-round messages
 * stay at version 1, so a node or coordinator that predates one-round signing rejects every
 * version-2 message by schema (counted as a drop) rather than half-understanding it; a coordinator
 * sends `sign_request` only to nodes that answered its `nonce_pool_request`, so old and new never
 * mix. Refusals and `round1_pending` carry the version of the request they answer.
 */
export const ONE_ROUND_PROTOCOL_VERSION = 2;

/** Most commitments one `nonce_pool` may carry, and most a share reply may hand back. */
export const MAX_POOL_BATCH = 32;
export const MAX_POOL_REPLENISH = 4;

/**
 * Header every node message carries (STYLE.md 2.5; ZF's `Header`). Strict objects: we write both
 * ends, so an unknown field means version skew or tampering and the message is dropped.
 */
const header = {
  v: z.literal(NODE_PROTOCOL_VERSION),
  groupId: groupIdSchema,
  epoch: z.number().int().min(0),
  sessionId: sessionIdSchema,
};

/** The one-round messages' header: same fields, version 2. */
const headerV2 = { ...header, v: z.literal(ONE_ROUND_PROTOCOL_VERSION) };
/** Replies that answer requests of either version. */
const headerAnyVersion = { ...header, v: z.union([z.literal(NODE_PROTOCOL_VERSION), z.literal(ONE_ROUND_PROTOCOL_VERSION)]) };

export const signingCommitmentsSchema = z.strictObject({
  identifier: frostIdentifierSchema,
  hiding: hexOfBytes(33),
  binding: hexOfBytes(33),
});

/** Coordinator -> node: the full event to co-sign; the node recomputes `eventId` itself. */
export const round1RequestSchema = z.strictObject({
  ...header,
  type: z.literal('round1_request'),
  eventId: eventIdSchema,
  event: unsignedEventSchema,
});

/** Node -> coordinator: fresh nonce commitments for exactly this session and event. */
export const round1CommitmentsSchema = z.strictObject({
  ...header,
  type: z.literal('round1_commitments'),
  eventId: eventIdSchema,
  commitments: signingCommitmentsSchema,
});

/** Coordinator -> node: the signing package (commitments of the chosen signers). */
export const round2RequestSchema = z.strictObject({
  ...header,
  type: z.literal('round2_request'),
  eventId: eventIdSchema,
  commitments: z.array(signingCommitmentsSchema).min(1).max(255),
});

/** Node -> coordinator: the partial signature z_i; the node has already destroyed its nonces. */
export const round2ShareSchema = z.strictObject({
  ...header,
  type: z.literal('round2_share'),
  eventId: eventIdSchema,
  signatureShare: hexOfBytes(32),
});

/**
 * Why a node refused. Sticky (the request ends, no failover): `vetoed` and every bad-request code.
 * Not sticky: `frozen` and `busy` say the node is out of service, so the coordinator treats them
 * like silence and carries on with other nodes (RELIABILITY.md G8: 2-of-3 with one frozen signs).
 */
export const refusalCodeSchema = z.enum([
  'vetoed',
  'frozen',
  'approval_denied',
  'approval_timeout',
  'event_mismatch',
  'pubkey_mismatch',
  'unknown_group',
  'wrong_epoch',
  'unknown_session',
  'session_reused',
  'bad_package',
  'created_at_window',
  'busy',
  /** One-round: the package names a commitment of ours we never issued or already consumed. */
  'commitment_unknown',
]);
export type RefusalCode = z.infer<typeof refusalCodeSchema>;

/** Node -> coordinator: an explicit refusal, signed (as every message) by the node identity. */
export const refusalSchema = z.strictObject({
  ...headerAnyVersion,
  type: z.literal('refusal'),
  code: refusalCodeSchema,
  reason: z.string().max(LIMITS.refusalReasonChars),
});

/**
 * Node -> coordinator: policy says "ask"; the node holds round 1 until its operator decides, then
 * sends commitments or a refusal for the same session. The coordinator must wait for this node
 * (an ask is never a reason to shop for a more lenient one).
 */
export const round1PendingSchema = z.strictObject({
  ...headerAnyVersion,
  type: z.literal('round1_pending'),
  eventId: eventIdSchema,
  approvalTimeoutSec: z.number().int().min(1).max(3_600),
  reason: z.string().max(LIMITS.refusalReasonChars),
});

/**
 * Refusal codes that say the node cannot take part in this session, not that its policy objects:
 * out of service (`frozen`, `busy`), or its state does not match the request (another epoch or
 * group, or a restart lost the session between the rounds). The coordinator treats them as
 * absence and fails over; a veto is sticky (DESIGN.md). Found by the G15b simulation: a node
 * restarted between the rounds answered `unknown_session`, and the request failed as vetoed.
 */
export const NON_STICKY_REFUSALS: ReadonlySet<RefusalCode> = new Set(['frozen', 'busy', 'unknown_session', 'wrong_epoch', 'unknown_group']);

/**
 * `session_reused` answers a second copy of a request the node already took (a duplicate
 * delivery, or a replay): its answer to the first copy is what counts, so the coordinator ignores
 * this one. It stays a refusal on the wire, signed with its code, for the malicious-coordinator
 * record (RELIABILITY.md G9).
 */
export const DUPLICATE_REFUSAL: RefusalCode = 'session_reused';

/** Liveness probe; `sessionId` is the probe id and is echoed. */
export const pingSchema = z.strictObject({ ...header, type: z.literal('ping') });
export const pongSchema = z.strictObject({
  ...header,
  type: z.literal('pong'),
  identifier: frostIdentifierSchema,
  nodeTimeSec: z.number().int().min(0),
  frozen: z.boolean(),
});

// ---------------------------------------------------------------------------------------------
// One-round signing with pre-shared commitments (version 2; DESIGN.md "Signing", issue 9)
// ---------------------------------------------------------------------------------------------

/**
 * Coordinator -> node: issue `count` fresh single-use commitments for later sessions. The node
 * keeps their nonces in memory only (bounded, expiring, gone on restart) and answers `nonce_pool`.
 */
export const noncePoolRequestSchema = z.strictObject({
  ...headerV2,
  type: z.literal('nonce_pool_request'),
  count: z.number().int().min(1).max(MAX_POOL_BATCH),
});

/** Node -> coordinator: commitments it issued for this coordinator, group and epoch (maybe none). */
export const noncePoolSchema = z.strictObject({
  ...headerV2,
  type: z.literal('nonce_pool'),
  commitments: z.array(signingCommitmentsSchema).max(MAX_POOL_BATCH),
});

/**
 * Coordinator -> node, one round: the full event and the signing package (the chosen signers'
 * pre-shared commitments). A node named in the package runs binding and veto on the event and
 * answers `sign_share`; a node not named only runs them and answers `sign_vote` (it may still
 * veto, within the coordinator's veto grace). Either may answer `round1_pending` (operator) or a
 * refusal.
 */
export const signRequestSchema = z.strictObject({
  ...headerV2,
  type: z.literal('sign_request'),
  eventId: eventIdSchema,
  event: unsignedEventSchema,
  commitments: z.array(signingCommitmentsSchema).min(1).max(255),
});

/** Node -> coordinator: z_i for the session's event; the commitment it used is gone. */
export const signShareSchema = z.strictObject({
  ...headerV2,
  type: z.literal('sign_share'),
  eventId: eventIdSchema,
  signatureShare: hexOfBytes(32),
  /** Fresh commitments to replace the one used, so the pool refills without extra messages. */
  next: z.array(signingCommitmentsSchema).max(MAX_POOL_REPLENISH),
});

/** Node -> coordinator: not a signer of this package; binding and policy pass, no objection. */
export const signVoteSchema = z.strictObject({
  ...headerV2,
  type: z.literal('sign_vote'),
  eventId: eventIdSchema,
});

/** What a share node accepts. */
export const toNodeMessageSchema = z.discriminatedUnion('type', [
  round1RequestSchema,
  round2RequestSchema,
  pingSchema,
  noncePoolRequestSchema,
  signRequestSchema,
]);
export type ToNodeMessage = z.infer<typeof toNodeMessageSchema>;

/** What the coordinator accepts. */
export const fromNodeMessageSchema = z.discriminatedUnion('type', [
  round1CommitmentsSchema,
  round1PendingSchema,
  round2ShareSchema,
  refusalSchema,
  pongSchema,
  noncePoolSchema,
  signShareSchema,
  signVoteSchema,
]);
export type FromNodeMessage = z.infer<typeof fromNodeMessageSchema>;

export type Round1Request = z.infer<typeof round1RequestSchema>;
export type Round1Commitments = z.infer<typeof round1CommitmentsSchema>;
export type Round1Pending = z.infer<typeof round1PendingSchema>;
export type Round2Request = z.infer<typeof round2RequestSchema>;
export type Round2Share = z.infer<typeof round2ShareSchema>;
export type Refusal = z.infer<typeof refusalSchema>;
export type Pong = z.infer<typeof pongSchema>;
export type NoncePoolRequest = z.infer<typeof noncePoolRequestSchema>;
export type NoncePool = z.infer<typeof noncePoolSchema>;
export type SignRequest = z.infer<typeof signRequestSchema>;
export type SignShare = z.infer<typeof signShareSchema>;
export type SignVote = z.infer<typeof signVoteSchema>;
