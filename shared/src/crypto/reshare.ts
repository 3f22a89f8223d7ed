/**
 * Resharing to a new threshold and group size, (k, n) → (k', n'), with the same group key
 * (issue 7): Desmedt–Jajodia 1997, "Redistributing Secret Shares to New Access Structures",
 * made verifiable as in Wong–Wang–Wing 2002, "Verifiable Secret Redistribution for Archive
 * Systems". A set S of at least k old members each deals a polynomial of degree k'−1 whose
 * constant term is its Lagrange-weighted share λ_i·s_i, so the new shares interpolate
 * Σ_{i∈S} λ_i·s_i = s.
 *
 *   1. dealReshare   (old member i ∈ S) → CommitmentMessage [λ_i·s_i·G, b_1·G, …] (k' points,
 *                      broadcast) and one SubShare h_i(x_j) per new member j = 1..n'.
 *   2. verifyReshare (new member j) ← every dealer's commitments and sub-share → PendingReshare;
 *                      broadcast its `echo` to the other new members.
 *   3. finishReshare ← every other new member's echo → new GroupPackage and our SigningShare.
 *
 * Binding to the old public shares: each dealer's constant-term commitment must equal λ_i·Y_i,
 * with Y_i its verifying share in the old group. Without it a dealer could deal any constant and
 * move the group key; with it, Σ λ_i·Y_i = Q by interpolation in the exponent. Blame waits for the
 * echo, as in refresh.ts. The new members are the identifiers of indices 1..n'; the dealer set S
 * and (k', n') come with the (signed) ceremony request and must be the same at every node.
 */
import type { FrostIdentifier } from '../protocol/brands.js';
import { FrostbunkerError } from '../errors.js';
import { invalidInput } from './bytes.js';
import {
  assertCounts,
  assertEchoesAgree,
  commitmentEcho,
  createSubShare,
  decodeVector,
  expectedEntries,
  groupFromCommitments,
  groupOfShare,
  memberSubset,
  readCommitmentMessages,
  readSubShare,
  throwIfRejected,
  PendingCeremony,
  type CommitmentEcho,
  type CommitmentMessage,
  type Rejection,
  type SubShare,
} from './ceremony.js';
import { identifierFromIndex, signingShareBytes, SigningShare } from './frost.js';
import { checkedGroup, identifierScalar, type GroupPackage } from './group-package.js';
import {
  baseMultiply,
  commitPolynomial,
  evaluatePolynomial,
  lagrangeCoefficient,
  randomPolynomial,
  scalarField as Fn,
  scalarToBytes,
  scalarToHex,
  sumPoints,
  wipe,
  type Rng,
} from './polynomial.js';
import { decodePoint, encodePoint, evaluateVss, type CurvePoint } from './vss.js';

/** The group shape after resharing. */
export interface ReshareTarget {
  threshold: number;
  maxSigners: number;
}

function checkedTarget(next: unknown): { threshold: number; maxSigners: number; members: FrostIdentifier[] } {
  if (typeof next !== 'object' || next === null) throw invalidInput('opts.next', '{ threshold, maxSigners }');
  const { threshold, maxSigners } = next as ReshareTarget;
  assertCounts(threshold, maxSigners, 'opts.next');
  return { threshold, maxSigners, members: Array.from({ length: maxSigners }, (_, i) => identifierFromIndex(i + 1)) };
}

/** λ_i for dealer i over the dealer set S, at x = 0 (RFC 9591 §4.2 derive_interpolating_value). */
function dealerWeight(dealers: readonly FrostIdentifier[], dealer: FrostIdentifier): bigint {
  return lagrangeCoefficient(
    dealers.map((d) => identifierScalar(d, 'dealer')),
    identifierScalar(dealer, 'dealer'),
  );
}

/**
 * Step one (old member in `dealers`): deals h_i(x) = λ_i·s_i + b_1·x + … + b_{k'−1}·x^{k'−1}.
 * `dealers` is the agreed set S of at least k old members, this one included.
 */
export function dealReshare(opts: {
  share: SigningShare;
  group: GroupPackage;
  dealers: readonly FrostIdentifier[];
  next: ReshareTarget;
  rng?: Rng;
}): { message: CommitmentMessage; subShares: SubShare[] } {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = groupOfShare(opts.group, opts.share);
  const dealers = memberSubset(group, opts.dealers, group.threshold, 'opts.dealers');
  const me = opts.share.identifier;
  if (!dealers.includes(me)) throw invalidInput('opts.dealers', 'a set that includes this share');
  const target = checkedTarget(opts.next);
  const secret = signingShareBytes(opts.share);
  const coefficients = randomPolynomial(
    Fn.mul(dealerWeight(dealers, me), Fn.fromBytes(secret)),
    target.threshold - 1,
    opts.rng,
  );
  secret.fill(0);
  try {
    const message: CommitmentMessage = { commitments: commitPolynomial(coefficients).map(encodePoint) };
    const subShares = target.members.map((member) =>
      createSubShare('reshare', me, member, evaluatePolynomial(coefficients, identifierScalar(member, 'member'))),
    );
    return { message, subShares };
  } finally {
    wipe(coefficients);
  }
}

interface PendingInternal {
  group: GroupPackage;
  threshold: number;
  members: FrostIdentifier[];
  dealers: FrostIdentifier[];
  vectors: Map<FrostIdentifier, CurvePoint[]>;
  /** Σ_i h_i(x_me), 32 bytes: our new share, zeroed when the pending reshare ends. */
  sum: Uint8Array;
}

const PENDING: unique symbol = Symbol('reshare.pending');
const pendings = new WeakMap<PendingCeremony, PendingInternal>();

/** A verified reshare waiting for the echo round; its secret is our new share. */
export class PendingReshare extends PendingCeremony {
  constructor(token: typeof PENDING, identifier: FrostIdentifier, echo: CommitmentEcho, rejections: readonly Rejection[]) {
    if (token !== PENDING) throw invalidInput('PendingReshare', 'construction via verifyReshare()');
    super(identifier, echo, rejections, (pending) => {
      pendings.get(pending)?.sum.fill(0);
      pendings.delete(pending);
    });
  }
}

/**
 * Step two (new member `identifier`): reads each dealer's commitments and the sub-share it sent
 * us (keyed by authenticated dealer, exactly `dealers`) and verifies: k' commitments, valid
 * points, B_{i,0} == λ_i·Y_i (Y_i from the OLD group: the binding that keeps the group key), and
 * h_i(x_me)·G == Σ_j B_{i,j}·x_me^j with full point equality. Needs only the old group's public
 * package, so a new member without an old share can run it.
 */
export function verifyReshare(opts: {
  group: GroupPackage;
  dealers: readonly FrostIdentifier[];
  next: ReshareTarget;
  identifier: FrostIdentifier;
  commitments: unknown;
  subShares: unknown;
}): PendingReshare {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = checkedGroup(opts.group);
  const dealers = memberSubset(group, opts.dealers, group.threshold, 'opts.dealers');
  const target = checkedTarget(opts.next);
  const me = opts.identifier;
  if (!target.members.includes(me))
    throw invalidInput('opts.identifier', `the identifier of an index 1..${target.maxSigners}`);
  const x = identifierScalar(me, 'opts.identifier');
  const received = readCommitmentMessages('reshare', 'dealer', opts.commitments, dealers);
  const echo = commitmentEcho('reshare', received);
  const rejections: Rejection[] = [];
  const vectors = new Map<FrostIdentifier, CurvePoint[]>();
  let sum = Fn.ZERO;
  for (const [dealer, value] of expectedEntries('reshare', opts.subShares, dealers, 'sub-shares')) {
    const reject = (reason: string) => rejections.push({ from: dealer, role: 'dealer', reason });
    const points = decodeVector(received.get(dealer) as string[], target.threshold);
    if (typeof points === 'string') {
      reject(points);
      continue;
    }
    const oldPublic = decodePoint(group.verifyingShares[dealer], `group.verifyingShares[${dealer}]`);
    if (!(points[0] as CurvePoint).equals(oldPublic.multiplyUnsafe(dealerWeight(dealers, dealer)))) {
      reject('sent a constant-term commitment that is not λ·(its verifying share): it would change the group key');
      continue;
    }
    const subShare = readSubShare(value, me);
    if (typeof subShare === 'string') {
      reject(subShare);
      continue;
    }
    if (!baseMultiply(subShare).equals(evaluateVss(points, x))) {
      reject('sent a sub-share that does not match its commitments');
      continue;
    }
    vectors.set(dealer, points);
    sum = Fn.add(sum, subShare);
  }
  const pending = new PendingReshare(PENDING, me, echo, rejections);
  pendings.set(pending, {
    group,
    threshold: target.threshold,
    members: target.members,
    dealers,
    vectors,
    sum: scalarToBytes(sum),
  });
  return pending;
}

/**
 * Step three: checks every other new member's echo, throws the step-two rejections if any, then
 * builds the new group (C'_j = Σ_i B_{i,j}, k' commitments, C'_0 = Q) and our new share
 * s'_me = Σ_i h_i(x_me) through the verifying constructor. Consumes `pending` whatever the outcome.
 */
export function finishReshare(
  pending: PendingReshare,
  echoes: unknown,
): { group: GroupPackage; share: SigningShare } {
  const internal = pending instanceof PendingReshare ? pendings.get(pending) : undefined;
  if (internal === undefined) throw invalidInput('pending', 'a live PendingReshare (not finished or discarded)');
  try {
    const { group, threshold, members, dealers, vectors } = internal;
    const me = pending.identifier;
    assertEchoesAgree('reshare', pending.echo, echoes, members.filter((m) => m !== me));
    throwIfRejected('reshare', pending.rejections);
    const commitments = Array.from({ length: threshold }, (_, j) =>
      sumPoints(dealers.map((d) => (vectors.get(d) as CurvePoint[])[j] as CurvePoint)),
    );
    const next = groupFromCommitments('reshare', threshold, members, commitments);
    // Follows from the binding checks and Lagrange interpolation; checked, not assumed.
    if (next.groupKey !== group.groupKey)
      throw new FrostbunkerError('INTERNAL', 'reshare: the group key changed despite bound constant terms');
    return { group: next, share: SigningShare.fromHex(me, scalarToHex(Fn.fromBytes(internal.sum)), next) };
  } finally {
    pending.discard();
  }
}
