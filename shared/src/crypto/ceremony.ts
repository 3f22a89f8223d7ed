/**
 * What the key ceremonies (dkg.ts, refresh.ts, reshare.ts, repair.ts) share: the secret sub-share
 * a dealer sends one recipient, the public commitment message, the echo of every dealer's
 * commitment vector that exposes equivocation (RELIABILITY.md G12c), errors that name the
 * culprit, and the GroupPackage built from summed commitments. Pure: no I/O, no clock.
 *
 * Received material arrives as `Record<FrostIdentifier, unknown>` keyed by the *authenticated*
 * sender (the transport's verified signer), never by an identifier read from a message body
 * (STYLE.md: blame names the node from the authenticated sender).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { CheaterError, FrostbunkerError, ProtocolError } from '../errors.js';
import { frostIdentifierSchema, hexOfBytes, type FrostIdentifier } from '../protocol/brands.js';
import { bytesToHex, hexToBytes, invalidInput } from './bytes.js';
import {
  checkedGroup,
  compareIdentifiers,
  identifierScalar,
  MAX_SIGNERS,
  MIN_THRESHOLD,
  parseGroupPackage,
  type GroupPackage,
} from './group-package.js';
import { scalarFromHex, scalarToBytes } from './polynomial.js';
import { RedactedSecret } from './redact.js';
import { decodePoint, encodePoint, evaluateVss, type CurvePoint } from './vss.js';

/** The ceremony a message or error belongs to; part of every echo digest (domain separation). */
export type CeremonyKind = 'dkg' | 'refresh' | 'reshare' | 'repair';

/** How an error names a sender: `dealer 3`, `participant 2`, `helper 1`. */
export type CeremonyRole = 'dealer' | 'participant' | 'helper';

/** "dealer 3" for identifiers made from an index (all of ours), else a shortened hex. */
export function participantLabel(role: CeremonyRole, identifier: string): string {
  const scalar = /^[0-9a-f]{64}$/.test(identifier) ? BigInt('0x' + identifier) : undefined;
  if (scalar !== undefined && scalar > 0n && scalar <= 0xffff_ffffn) return `${role} ${scalar}`;
  return `${role} ${identifier.slice(0, 16)}…`;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** One rejected contribution: who sent it (authenticated) and why it failed. */
export interface Rejection {
  from: FrostIdentifier;
  role: CeremonyRole;
  reason: string;
}

/**
 * A contribution failed verification (bad proof of knowledge, Feldman check, count, binding).
 * A CheaterError (code CHEATER_DETECTED) whose `culprits` are the senders' identifiers.
 */
export class CeremonyError extends CheaterError {
  override name = 'CeremonyError';
  constructor(
    readonly ceremony: CeremonyKind,
    readonly rejections: readonly Rejection[],
  ) {
    super(rejections.map((r) => r.from));
    const reasons = rejections.map((r) => `${participantLabel(r.role, r.from)} ${r.reason}`);
    this.message = `${ceremony}: ${reasons.join('; ')}`;
  }
}

/**
 * Participants saw different commitment vectors for the same dealer (RELIABILITY.md G12c): the
 * coordinator or the dealer equivocated. Nobody is blamed (either could be at fault); every node
 * aborts. Code PROTOCOL_INVALID.
 */
// @TODO(issue 7): a dedicated COMMITMENT_MISMATCH code also needs coordinator/src/nip46/reply.ts's
// exhaustive code table, so this reuses PROTOCOL_INVALID for now.
export class CommitmentMismatchError extends ProtocolError {
  override name = 'CommitmentMismatchError';
  constructor(
    readonly ceremony: CeremonyKind,
    readonly dealers: readonly FrostIdentifier[],
    readonly reporters: readonly FrostIdentifier[],
    role: CeremonyRole = 'dealer',
  ) {
    const who = dealers.map((d) => participantLabel(role, d)).join(', ');
    const from = reporters.map((r) => participantLabel('participant', r)).join(', ');
    super('PROTOCOL_INVALID', `${ceremony}: commitment mismatch (${who}) with ${from}`);
  }
}

/** Throws one CeremonyError naming every rejected sender, if there is any. */
export function throwIfRejected(ceremony: CeremonyKind, rejections: readonly Rejection[]): void {
  if (rejections.length > 0) throw new CeremonyError(ceremony, rejections);
}

// ---------------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------------

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Checks a (threshold, maxSigners) pair the way dealerKeygen does (2 ≤ k ≤ n ≤ MAX_SIGNERS). */
export function assertCounts(threshold: unknown, maxSigners: unknown, title: string): void {
  if (!isIntegerIn(maxSigners, MIN_THRESHOLD, MAX_SIGNERS))
    throw invalidInput(`${title}.maxSigners`, `integer ${MIN_THRESHOLD}..${MAX_SIGNERS}`);
  if (!isIntegerIn(threshold, MIN_THRESHOLD, maxSigners))
    throw invalidInput(`${title}.threshold`, `integer ${MIN_THRESHOLD}..maxSigners (${maxSigners})`);
}

/** Members of a group in RFC 9591 order (ascending identifier). */
export function membersOf(group: GroupPackage): FrostIdentifier[] {
  return (Object.keys(group.verifyingShares) as FrostIdentifier[]).sort(compareIdentifiers);
}

/**
 * Checks a list of identifiers drawn from `group`: distinct, members, `min` of them at least;
 * returns them sorted.
 */
export function memberSubset(group: GroupPackage, ids: unknown, min: number, title: string): FrostIdentifier[] {
  if (!Array.isArray(ids) || ids.length < min || ids.length > group.maxSigners)
    throw invalidInput(title, `array of ${min}..${group.maxSigners} member identifiers`);
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    identifierScalar(id, `${title}[${i}]`);
    if (group.verifyingShares[id as FrostIdentifier] === undefined)
      throw invalidInput(`${title}[${i}]`, 'a member of the group');
    if (seen.has(id as string)) throw invalidInput(title, 'no duplicate identifiers');
    seen.add(id as string);
  }
  return [...(ids as FrostIdentifier[])].sort(compareIdentifiers);
}

/** Parses the group (cheap for parsed ones) and checks that `share` is one of its members. */
export function groupOfShare(
  group: GroupPackage,
  share: { identifier: FrostIdentifier; publicShare(): string },
): GroupPackage {
  const checked = checkedGroup(group);
  if (checked.verifyingShares[share.identifier] !== share.publicShare())
    throw new FrostbunkerError('SHARE_INVALID', 'share: does not belong to this group');
  return checked;
}

/**
 * Reads a record keyed by authenticated sender: exactly the `expected` senders, in that order.
 * Missing or extra senders are a protocol error (absence is not cheating).
 */
export function expectedEntries(
  ceremony: CeremonyKind,
  record: unknown,
  expected: readonly FrostIdentifier[],
  title: string,
): [FrostIdentifier, unknown][] {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw invalidInput(title, 'record keyed by sender identifier');
  const missing = expected.filter((id) => !Object.hasOwn(record, id));
  if (missing.length > 0)
    throw new ProtocolError('PROTOCOL_INVALID', `${ceremony}: ${title} missing from ${missing.join(', ')}`);
  const extra = Object.keys(record).filter((id) => !expected.includes(id as FrostIdentifier));
  if (extra.length > 0)
    throw new ProtocolError('PROTOCOL_INVALID', `${ceremony}: ${title} from unexpected senders ${extra.join(', ')}`);
  return expected.map((id) => [id, (record as Record<string, unknown>)[id]]);
}

// ---------------------------------------------------------------------------------------------
// Public commitment message
// ---------------------------------------------------------------------------------------------

/** A dealer's public Feldman commitments, 33-byte compressed points; what each entry means is per ceremony. */
export interface CommitmentMessage {
  commitments: string[];
}

/** Wire shape only; counts and point validity are checked by the ceremony after the echo. */
export const commitmentMessageSchema: z.ZodType<CommitmentMessage> = z.strictObject({
  commitments: z.array(hexOfBytes(33)).min(1).max(MAX_SIGNERS),
});

/**
 * Parses each dealer's commitment message (wire shape only). A shape failure is the authenticated
 * dealer's and ends the ceremony at once: without a vector there is nothing to echo.
 */
export function readCommitmentMessages(
  ceremony: CeremonyKind,
  role: CeremonyRole,
  record: unknown,
  dealers: readonly FrostIdentifier[],
): Map<FrostIdentifier, string[]> {
  const vectors = new Map<FrostIdentifier, string[]>();
  const rejections: Rejection[] = [];
  for (const [dealer, value] of expectedEntries(ceremony, record, dealers, 'commitments')) {
    const parsed = commitmentMessageSchema.safeParse(value);
    if (parsed.success) vectors.set(dealer, [...parsed.data.commitments]);
    else rejections.push({ from: dealer, role, reason: 'sent a malformed commitment message' });
  }
  throwIfRejected(ceremony, rejections);
  return vectors;
}

/** Decodes a commitment vector of exactly `count` points, or says why not. */
export function decodeVector(vector: readonly string[], count: number): CurvePoint[] | string {
  if (vector.length !== count) return `sent ${vector.length} commitments, expected ${count}`;
  try {
    return vector.map((hex, j) => decodePoint(hex, `commitments[${j}]`));
  } catch {
    return 'sent a commitment that is not a valid secp256k1 point';
  }
}

// ---------------------------------------------------------------------------------------------
// Secret sub-shares
// ---------------------------------------------------------------------------------------------

/** A secret scalar from one dealer for one recipient: encrypt it to the recipient (NIP-44) at once. */
export interface SubShareMessage {
  recipient: FrostIdentifier;
  share: string;
}

export const subShareMessageSchema: z.ZodType<SubShareMessage> = z.strictObject({
  recipient: frostIdentifierSchema,
  share: hexOfBytes(32),
});

const SUB_SHARE: unique symbol = Symbol('ceremony.subShare');
const subShareSecrets = new WeakMap<SubShare, Uint8Array>();

/** One dealer's secret sub-share for one recipient; prints `<redacted>`, text only via toMessage(). */
export class SubShare extends RedactedSecret {
  readonly ceremony: CeremonyKind;
  readonly dealer: FrostIdentifier;
  readonly recipient: FrostIdentifier;

  constructor(
    token: typeof SUB_SHARE,
    ceremony: CeremonyKind,
    dealer: FrostIdentifier,
    recipient: FrostIdentifier,
    secret: Uint8Array,
  ) {
    super();
    if (token !== SUB_SHARE) throw invalidInput('SubShare', 'construction by a ceremony');
    this.ceremony = ceremony;
    this.dealer = dealer;
    this.recipient = recipient;
    subShareSecrets.set(this, secret);
  }

  /** The wire form for `recipient` (it carries the secret scalar: encrypt it, do not log it). */
  toMessage(): SubShareMessage {
    const secret = subShareSecrets.get(this);
    if (secret === undefined) throw invalidInput('SubShare', 'a sub-share that was not discarded');
    return { recipient: this.recipient, share: bytesToHex(secret) };
  }

  /** Zeroes the scalar (best effort) once it has been sent or the ceremony is abandoned. */
  discard(): void {
    subShareSecrets.get(this)?.fill(0);
    subShareSecrets.delete(this);
  }
}

/** @internal Only the ceremony modules mint sub-shares. */
export function createSubShare(
  ceremony: CeremonyKind,
  dealer: FrostIdentifier,
  recipient: FrostIdentifier,
  scalar: bigint,
): SubShare {
  return new SubShare(SUB_SHARE, ceremony, dealer, recipient, scalarToBytes(scalar));
}

/** Reads a received sub-share meant for `recipient`: its scalar, or why it is unusable. */
export function readSubShare(value: unknown, recipient: FrostIdentifier): bigint | string {
  const parsed = subShareMessageSchema.safeParse(value);
  if (!parsed.success) return 'sent a malformed sub-share message';
  if (parsed.data.recipient !== recipient) return `sent a sub-share addressed to ${parsed.data.recipient}`;
  try {
    return scalarFromHex(parsed.data.share, 'share');
  } catch {
    return 'sent a sub-share that is not a canonical scalar';
  }
}

// ---------------------------------------------------------------------------------------------
// Echo round: one hash of all dealers' commitment vectors (RELIABILITY.md G12c)
// ---------------------------------------------------------------------------------------------

/**
 * A verified refresh or reshare waiting for the echo round: what this member echoes, the dealers
 * whose contributions failed (thrown by the finish step once the echoes agree; log them early if
 * useful), and a secret sum kept by the ceremony's module, keyed by the instance. Prints
 * `<redacted>`. `discard` zeroes and forgets that sum.
 */
export abstract class PendingCeremony extends RedactedSecret {
  readonly identifier: FrostIdentifier;
  readonly echo: CommitmentEcho;
  readonly rejections: readonly Rejection[];
  readonly #forget: (pending: PendingCeremony) => void;

  protected constructor(
    identifier: FrostIdentifier,
    echo: CommitmentEcho,
    rejections: readonly Rejection[],
    forget: (pending: PendingCeremony) => void,
  ) {
    super();
    this.identifier = identifier;
    this.echo = echo;
    this.rejections = Object.freeze([...rejections]);
    this.#forget = forget;
  }

  /** Abandons the ceremony (abort, timeout): zeroes the pending secret. Idempotent. */
  discard(): void {
    this.#forget(this);
  }
}

/**
 * What each participant broadcasts before it uses anything it received: a digest of every
 * dealer's commitment vector as it saw it, and the digest over all of them. Comparing the
 * per-dealer digests names the dealer whose vector differed.
 */
export interface CommitmentEcho {
  digest: string;
  dealers: Record<FrostIdentifier, string>;
}

export const commitmentEchoSchema: z.ZodType<CommitmentEcho> = z
  .strictObject({
    digest: hexOfBytes(32),
    dealers: z.record(frostIdentifierSchema, hexOfBytes(32)),
  })
  .refine((echo) => Object.keys(echo.dealers).length <= MAX_SIGNERS, { message: 'too many dealers' });

const ECHO_TAG = utf8ToBytes('frostbunker/commitment-echo/v1');

/** Big-endian u16, for counts inside digests (length-prefixed, so no two inputs collide). */
function u16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

function kindBytes(ceremony: CeremonyKind): Uint8Array {
  const bytes = utf8ToBytes(ceremony);
  return concatBytes(u16(bytes.length), bytes);
}

/** sha256(tag || 0x00 || ceremony || dealer || count || points): one dealer's vector. */
function dealerDigest(ceremony: CeremonyKind, dealer: FrostIdentifier, vector: readonly string[]): string {
  const points = vector.map((hex) => hexToBytes(hex, 33, 'commitment'));
  const header = concatBytes(ECHO_TAG, Uint8Array.of(0), kindBytes(ceremony), hexToBytes(dealer, 32));
  return bytesToHex(sha256(concatBytes(header, u16(points.length), ...points)));
}

/** sha256(tag || 0x01 || ceremony || count || (dealer || dealer digest)…), dealers ascending. */
function echoDigest(ceremony: CeremonyKind, dealers: Record<string, string>): string {
  const ids = Object.keys(dealers).sort(compareIdentifiers);
  const parts = ids.flatMap((id) => [hexToBytes(id, 32), hexToBytes(dealers[id], 32)]);
  return bytesToHex(sha256(concatBytes(ECHO_TAG, Uint8Array.of(1), kindBytes(ceremony), u16(ids.length), ...parts)));
}

/**
 * The echo of `vectors` (dealer -> commitment vector as received, 33-byte hex points). Anyone
 * holding the vectors, the coordinator included, gets the same digest (for logs and reports).
 */
export function commitmentEcho(
  ceremony: CeremonyKind,
  vectors: ReadonlyMap<FrostIdentifier, readonly string[]> | Readonly<Record<FrostIdentifier, readonly string[]>>,
): CommitmentEcho {
  const entries = vectors instanceof Map ? [...vectors.entries()] : Object.entries(vectors);
  const dealers: Record<FrostIdentifier, string> = {};
  for (const [dealer, vector] of entries.sort(([a], [b]) => compareIdentifiers(a, b))) {
    identifierScalar(dealer, 'dealer');
    dealers[dealer as FrostIdentifier] = dealerDigest(ceremony, dealer as FrostIdentifier, vector as string[]);
  }
  return Object.freeze({ digest: echoDigest(ceremony, dealers), dealers: Object.freeze(dealers) });
}

/**
 * Compares our echo with the one every other participant sent (keyed by authenticated sender;
 * exactly `senders`). A malformed or self-inconsistent echo blames its sender; any difference in
 * a dealer's digest throws CommitmentMismatchError naming that dealer, and every participant
 * that compares will see it (RELIABILITY.md G12c: "commitment mismatch (dealer 3)").
 */
export function assertEchoesAgree(
  ceremony: CeremonyKind,
  mine: CommitmentEcho,
  echoes: unknown,
  senders: readonly FrostIdentifier[],
  dealerRole: CeremonyRole = 'dealer',
): void {
  const rejections: Rejection[] = [];
  const differing = new Set<FrostIdentifier>();
  const reporters: FrostIdentifier[] = [];
  for (const [sender, value] of expectedEntries(ceremony, echoes, senders, 'echoes')) {
    const parsed = commitmentEchoSchema.safeParse(value);
    if (!parsed.success || echoDigest(ceremony, parsed.data.dealers) !== parsed.data.digest) {
      rejections.push({ from: sender, role: 'participant', reason: 'sent a malformed or inconsistent echo' });
      continue;
    }
    const theirs = parsed.data.dealers;
    const ids = new Set([...Object.keys(mine.dealers), ...Object.keys(theirs)] as FrostIdentifier[]);
    let differs = false;
    for (const id of ids) {
      if (mine.dealers[id] !== theirs[id]) {
        differing.add(id);
        differs = true;
      }
    }
    if (differs) reporters.push(sender);
  }
  throwIfRejected(ceremony, rejections);
  if (differing.size > 0)
    throw new CommitmentMismatchError(ceremony, [...differing].sort(compareIdentifiers), reporters, dealerRole);
}

// ---------------------------------------------------------------------------------------------
// Resulting group
// ---------------------------------------------------------------------------------------------

/**
 * The GroupPackage of the polynomial committed to by `commitments` (a_0·G … a_{k-1}·G), with a
 * verifying share for every member (RFC 9591 Appendix C.2, in public form). A zero coefficient
 * (a degenerate, lower-degree polynomial) has no point encoding and is refused.
 */
export function groupFromCommitments(
  ceremony: CeremonyKind,
  threshold: number,
  members: readonly FrostIdentifier[],
  commitments: readonly CurvePoint[],
): GroupPackage {
  if (commitments.length !== threshold || commitments.some((c) => c.is0()))
    throw new ProtocolError('PROTOCOL_INVALID', `${ceremony}: the summed commitments are degenerate`);
  const encoded = commitments.map(encodePoint);
  return parseGroupPackage({
    threshold,
    maxSigners: members.length,
    groupKey: encoded[0],
    commitments: encoded,
    verifyingShares: Object.fromEntries(
      members.map((id) => [id, encodePoint(evaluateVss(commitments, identifierScalar(id, 'member')))]),
    ),
  });
}
