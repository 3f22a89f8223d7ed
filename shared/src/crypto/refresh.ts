/**
 * Proactive share refresh (issue 7; DESIGN.md "Rotation (epochs)"): every member gets a new share
 * of the same secret — same (k, n), same group key — and old shares stop matching the group
 * (Herzberg–Jarecki–Krawczyk–Yung 1995, "Proactive Secret Sharing"; ZF frost-core
 * `keys::refresh`). Every member deals a random polynomial with a ZERO constant term; each member
 * adds the sub-shares it receives to its share, and the group commitments absorb the dealers'.
 *
 *   1. dealRefresh   → CommitmentMessage (broadcast) and one SubShare per member (secret: encrypt
 *                      to the recipient; ours to ourselves).
 *   2. verifyRefresh ← every member's commitment message and every sub-share addressed to us.
 *                      Checks them all → PendingRefresh; broadcast its `echo`.
 *   3. finishRefresh ← every other member's echo. Equivocation first (CommitmentMismatchError),
 *                      then the step-two rejections (CeremonyError naming dealers), then
 *                      → the new GroupPackage and our new SigningShare.
 *
 * Why blame waits for the echo: a coordinator that alters a vector on its way to one node makes
 * that node's Feldman check fail; comparing echoes first turns this into "commitment mismatch
 * (dealer 3)" at every node instead of a false accusation at one (RELIABILITY.md G12c).
 *
 * The zero constant on the wire: a dealer sends the commitments to a_1 … a_{k−1} only, exactly
 * k−1 points. The constant term's commitment would be the identity, which has no compressed SEC1
 * encoding and which RFC 9591 §3.1 DeserializeElement rejects, so no field can carry it. The
 * verifier puts the identity back (Feldman check against [O, A_1, …, A_{k−1}]): a dealer that
 * sends k points is rejected by count, and one that hides a constant c in its sub-shares is off
 * by c·G at every recipient (RELIABILITY.md G12b).
 *
 * All n members deal and receive (RELIABILITY.md T21: otherwise use repair or reshare).
 */
import type { FrostIdentifier } from '../protocol/brands.js';
import { FrostbunkerError } from '../errors.js';
import { invalidInput } from './bytes.js';
import {
  assertEchoesAgree,
  commitmentEcho,
  createSubShare,
  decodeVector,
  expectedEntries,
  groupFromCommitments,
  groupOfShare,
  membersOf,
  readCommitmentMessages,
  readSubShare,
  throwIfRejected,
  PendingCeremony,
  type CommitmentEcho,
  type CommitmentMessage,
  type Rejection,
  type SubShare,
} from './ceremony.js';
import { signingShareBytes, SigningShare } from './frost.js';
import { identifierScalar, type GroupPackage } from './group-package.js';
import {
  baseMultiply,
  commitPolynomial,
  evaluatePolynomial,
  IDENTITY,
  randomPolynomial,
  scalarField as Fn,
  scalarToBytes,
  scalarToHex,
  sumPoints,
  wipe,
  type Rng,
} from './polynomial.js';
import { decodePoint, encodePoint, evaluateVss, type CurvePoint } from './vss.js';

/**
 * Step one: deals a random polynomial g(x) = a_1·x + … + a_{k−1}·x^{k−1} (g(0) = 0). Returns the
 * commitments [a_1·G, …, a_{k−1}·G] to broadcast and g(x_j) for every member j.
 */
export function dealRefresh(opts: { share: SigningShare; group: GroupPackage; rng?: Rng }): {
  message: CommitmentMessage;
  subShares: SubShare[];
} {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = groupOfShare(opts.group, opts.share);
  const coefficients = randomPolynomial(Fn.ZERO, group.threshold - 1, opts.rng);
  try {
    // Commit to a_1 … a_{k−1} only: the constant's commitment is the identity, left implicit.
    const message: CommitmentMessage = { commitments: commitPolynomial(coefficients).slice(1).map(encodePoint) };
    const subShares = membersOf(group).map((member) =>
      createSubShare(
        'refresh',
        opts.share.identifier,
        member,
        evaluatePolynomial(coefficients, identifierScalar(member, 'member')),
      ),
    );
    return { message, subShares };
  } finally {
    wipe(coefficients);
  }
}

interface PendingInternal {
  share: SigningShare;
  group: GroupPackage;
  members: FrostIdentifier[];
  vectors: Map<FrostIdentifier, CurvePoint[]>;
  /** Σ_d g_d(x_me), 32 bytes; zeroed when the pending refresh ends. */
  delta: Uint8Array;
}

const PENDING: unique symbol = Symbol('refresh.pending');
const pendings = new WeakMap<PendingCeremony, PendingInternal>();

/** A verified refresh waiting for the echo round; its secret is the sum of our sub-shares. */
export class PendingRefresh extends PendingCeremony {
  constructor(token: typeof PENDING, identifier: FrostIdentifier, echo: CommitmentEcho, rejections: readonly Rejection[]) {
    if (token !== PENDING) throw invalidInput('PendingRefresh', 'construction via verifyRefresh()');
    super(identifier, echo, rejections, (pending) => {
      pendings.get(pending)?.delta.fill(0);
      pendings.delete(pending);
    });
  }
}

/**
 * Step two: reads every member's commitment message and the sub-share each sent us (both keyed by
 * authenticated dealer, all n), and verifies each sub-share: exactly k−1 commitments, valid
 * points, and g_d(x_me)·G == Σ_{j≥1} A_{d,j}·x_me^j with full point equality (so a negated
 * sub-share fails too). Only a malformed commitment message throws here (no vector to echo).
 */
export function verifyRefresh(opts: {
  share: SigningShare;
  group: GroupPackage;
  commitments: unknown;
  subShares: unknown;
}): PendingRefresh {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const { share } = opts;
  const group = groupOfShare(opts.group, share);
  const members = membersOf(group);
  const me = share.identifier;
  const x = identifierScalar(me, 'share.identifier');
  const received = readCommitmentMessages('refresh', 'dealer', opts.commitments, members);
  const echo = commitmentEcho('refresh', received);
  const rejections: Rejection[] = [];
  const vectors = new Map<FrostIdentifier, CurvePoint[]>();
  let delta = Fn.ZERO;
  for (const [dealer, value] of expectedEntries('refresh', opts.subShares, members, 'sub-shares')) {
    const vector = received.get(dealer) as string[];
    const reject = (reason: string) => rejections.push({ from: dealer, role: 'dealer', reason });
    if (vector.length === group.threshold) {
      reject(`sent ${vector.length} commitments: refresh leaves out the constant term, which must be zero`);
      continue;
    }
    const points = decodeVector(vector, group.threshold - 1);
    if (typeof points === 'string') {
      reject(points);
      continue;
    }
    const subShare = readSubShare(value, me);
    if (typeof subShare === 'string') {
      reject(subShare);
      continue;
    }
    // Feldman with an identity constant term: g_d(x)·G = O + Σ_{j≥1} A_{d,j}·x^j.
    if (!baseMultiply(subShare).equals(evaluateVss([IDENTITY, ...points], x))) {
      reject('sent a sub-share that does not match its commitments (with a zero constant term)');
      continue;
    }
    vectors.set(dealer, points);
    delta = Fn.add(delta, subShare);
  }
  const pending = new PendingRefresh(PENDING, me, echo, rejections);
  pendings.set(pending, { share, group, members, vectors, delta: scalarToBytes(delta) });
  return pending;
}

/**
 * Step three: checks that every other member echoed the same commitment vectors, throws the
 * step-two rejections if any, then computes the new group (C'_0 = C_0, C'_j = C_j + Σ_d A_{d,j};
 * group key unchanged) and our new share s' = s + Σ_d g_d(x_me), accepted only by the verifying
 * constructor against the new group. Consumes `pending` whatever the outcome.
 */
export function finishRefresh(
  pending: PendingRefresh,
  echoes: unknown,
): { group: GroupPackage; share: SigningShare } {
  const internal = pending instanceof PendingRefresh ? pendings.get(pending) : undefined;
  if (internal === undefined) throw invalidInput('pending', 'a live PendingRefresh (not finished or discarded)');
  try {
    const { share, group, members, vectors } = internal;
    const me = pending.identifier;
    assertEchoesAgree('refresh', pending.echo, echoes, members.filter((m) => m !== me));
    throwIfRejected('refresh', pending.rejections);
    const old = group.commitments.map((hex, j) => decodePoint(hex, `group.commitments[${j}]`));
    const commitments = old.map((c, j) =>
      j === 0 ? c : c.add(sumPoints(members.map((d) => (vectors.get(d) as CurvePoint[])[j - 1] as CurvePoint))),
    );
    const next = groupFromCommitments('refresh', group.threshold, members, commitments);
    if (next.groupKey !== group.groupKey)
      throw new FrostbunkerError('INTERNAL', 'refresh: the group key changed, which a zero constant cannot do');
    const oldBytes = signingShareBytes(share);
    const sum = Fn.add(Fn.fromBytes(oldBytes), Fn.fromBytes(internal.delta));
    oldBytes.fill(0);
    return { group: next, share: SigningShare.fromHex(me, scalarToHex(sum), next) };
  } finally {
    pending.discard();
  }
}
