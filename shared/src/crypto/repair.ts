/**
 * Share repair (issue 7; DESIGN.md "Rotation": "Repair re-enrolls a lost node's index from k
 * helpers without the secret"): a repairable threshold scheme as surveyed in Laing–Stinson 2018,
 * "A Survey and Refinement of Repairable Threshold Schemes" (the scheme ZF frost-core
 * `keys::repairable` implements). The lost share s_r = f(x_r) equals Σ_{i∈H} λ_i(x_r)·s_i over
 * any set H of at least k helpers. Each helper splits its term ζ_i = λ_i(x_r)·s_i into random
 * additive pieces δ_{i,j}, one per helper j; helper j sends only σ_j = Σ_i δ_{i,j} to the new
 * holder, who adds them up: Σ_j σ_j = Σ_i ζ_i = s_r. No helper learns another's ζ_i (its pieces
 * are uniformly random), nor s_r, nor the secret; only the new holder sees every σ_j.
 *
 * Blame, our addition: helper i also broadcasts D_{i,j} = δ_{i,j}·G. Anyone checks
 * Σ_j D_{i,j} == λ_i(x_r)·Y_i (i split its true term), helper j checks δ_{i,j}·G == D_{i,j}, and
 * the new holder checks σ_j·G == Σ_i D_{i,j}, so a bad piece names its sender. The points reveal
 * no more than the public Y_i under discrete log, as every Feldman commitment; the price is that
 * the helpers' secrecy becomes computational instead of information-theoretic.
 *
 *   1. dealRepair    (helper i) → CommitmentMessage [D_{i,j}] for the helpers j in ascending
 *                     identifier order (broadcast to the helpers and the new holder), and one
 *                     SubShare δ_{i,j} per helper (secret: encrypt to j; ours to ourselves).
 *   2. combineRepair (helper j) ← every helper's commitments and the δ_{i,j} sent to us
 *                     → SubShare σ_j and our CommitmentEcho, both for the new holder.
 *   3. finishRepair  (new holder) ← every helper's commitments, σ_j and echo → the SigningShare
 *                     of x_r, accepted only if it matches the group's verifying share Y_r.
 *
 * The new holder compares every helper's echo with its own view before it blames anyone. A helper
 * blames at once in step two (the scheme has no echo round before σ_j is sent), so its accusation
 * rests on commitments the dealer signed (RELIABILITY.md §2.1: contributions are signed by their
 * dealer and only relayed by the coordinator).
 */
import type { FrostIdentifier } from '../protocol/brands.js';
import { invalidInput } from './bytes.js';
import {
  assertEchoesAgree,
  commitmentEcho,
  createSubShare,
  decodeVector,
  expectedEntries,
  groupOfShare,
  memberSubset,
  readCommitmentMessages,
  readSubShare,
  throwIfRejected,
  type CommitmentEcho,
  type CommitmentMessage,
  type Rejection,
  type SubShare,
} from './ceremony.js';
import { signingShareBytes, SigningShare } from './frost.js';
import { checkedGroup, identifierScalar, type GroupPackage } from './group-package.js';
import {
  baseMultiply,
  lagrangeCoefficient,
  randomScalar,
  scalarField as Fn,
  scalarToHex,
  sumPoints,
  wipe,
  type Rng,
} from './polynomial.js';
import { decodePoint, encodePoint, type CurvePoint } from './vss.js';

/** The helpers (≥ k members, sorted) and the lost member (a member, not a helper). */
function checkedRoles(
  group: GroupPackage,
  helpers: unknown,
  lost: unknown,
): { helpers: FrostIdentifier[]; lost: FrostIdentifier } {
  const sorted = memberSubset(group, helpers, group.threshold, 'opts.helpers');
  identifierScalar(lost, 'opts.lost');
  if (group.verifyingShares[lost as FrostIdentifier] === undefined)
    throw invalidInput('opts.lost', 'a member of the group');
  if (sorted.includes(lost as FrostIdentifier)) throw invalidInput('opts.helpers', 'helpers other than opts.lost');
  return { helpers: sorted, lost: lost as FrostIdentifier };
}

/** λ_i(x_r) over the helper set: helper i's weight when interpolating the share at x_r. */
function repairWeight(helpers: readonly FrostIdentifier[], helper: FrostIdentifier, lost: FrostIdentifier): bigint {
  return lagrangeCoefficient(
    helpers.map((h) => identifierScalar(h, 'helper')),
    identifierScalar(helper, 'helper'),
    identifierScalar(lost, 'lost'),
  );
}

/**
 * Decodes helper i's piece commitments (one per helper) and checks Σ_j D_{i,j} == λ_i(x_r)·Y_i:
 * the pieces add up to i's true term. Returns the points or why they fail.
 */
function readPieces(
  group: GroupPackage,
  helpers: readonly FrostIdentifier[],
  lost: FrostIdentifier,
  helper: FrostIdentifier,
  vector: readonly string[],
): CurvePoint[] | string {
  const points = decodeVector(vector, helpers.length);
  if (typeof points === 'string') return points;
  const publicShare = decodePoint(group.verifyingShares[helper], `group.verifyingShares[${helper}]`);
  if (!sumPoints(points).equals(publicShare.multiplyUnsafe(repairWeight(helpers, helper, lost))))
    return 'sent piece commitments that do not add up to λ·(its verifying share)';
  return points;
}

/**
 * Step one (helper): splits ζ_i = λ_i(x_r)·s_i into one random piece per helper (the last one
 * makes the sum exact) and commits to each piece.
 */
export function dealRepair(opts: {
  share: SigningShare;
  group: GroupPackage;
  helpers: readonly FrostIdentifier[];
  lost: FrostIdentifier;
  rng?: Rng;
}): { message: CommitmentMessage; deltas: SubShare[] } {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = groupOfShare(opts.group, opts.share);
  const { helpers, lost } = checkedRoles(group, opts.helpers, opts.lost);
  const me = opts.share.identifier;
  if (!helpers.includes(me)) throw invalidInput('opts.helpers', 'a set that includes this share');
  const secret = signingShareBytes(opts.share);
  const term = Fn.mul(repairWeight(helpers, me, lost), Fn.fromBytes(secret));
  secret.fill(0);
  const pieces = helpers.slice(1).map(() => randomScalar(opts.rng));
  pieces.push(Fn.sub(term, pieces.reduce((acc, p) => Fn.add(acc, p), Fn.ZERO)));
  try {
    return {
      message: { commitments: pieces.map((p) => encodePoint(baseMultiply(p))) },
      deltas: helpers.map((helper, j) => createSubShare('repair', me, helper, pieces[j] as bigint)),
    };
  } finally {
    wipe(pieces);
  }
}

/**
 * Step two (helper `identifier`): verifies every helper's piece commitments and the piece it sent
 * us (keyed by authenticated helper, exactly `helpers`), then sums our pieces into σ_j for the
 * new holder. Throws CeremonyError naming every helper whose contribution failed.
 */
export function combineRepair(opts: {
  identifier: FrostIdentifier;
  group: GroupPackage;
  helpers: readonly FrostIdentifier[];
  lost: FrostIdentifier;
  commitments: unknown;
  deltas: unknown;
}): { sigma: SubShare; echo: CommitmentEcho } {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = checkedGroup(opts.group);
  const { helpers, lost } = checkedRoles(group, opts.helpers, opts.lost);
  const me = opts.identifier;
  const position = helpers.indexOf(me);
  if (position < 0) throw invalidInput('opts.identifier', 'one of opts.helpers');
  const received = readCommitmentMessages('repair', 'helper', opts.commitments, helpers);
  const rejections: Rejection[] = [];
  let sigma = Fn.ZERO;
  for (const [helper, value] of expectedEntries('repair', opts.deltas, helpers, 'deltas')) {
    const reject = (reason: string) => rejections.push({ from: helper, role: 'helper', reason });
    const points = readPieces(group, helpers, lost, helper, received.get(helper) as string[]);
    if (typeof points === 'string') {
      reject(points);
      continue;
    }
    const piece = readSubShare(value, me);
    if (typeof piece === 'string') reject(piece);
    else if (!baseMultiply(piece).equals(points[position] as CurvePoint))
      reject('sent a piece that does not match its commitment');
    else sigma = Fn.add(sigma, piece);
  }
  throwIfRejected('repair', rejections);
  return { sigma: createSubShare('repair', me, lost, sigma), echo: commitmentEcho('repair', received) };
}

/**
 * Step three (the new holder of `lost`): compares every helper's echo with its own view of the
 * commitments, checks each helper's pieces add up to its term and each σ_j against
 * Σ_i D_{i,j}, and returns s_r = Σ_j σ_j through the verifying constructor (it must match the
 * group's verifying share Y_r).
 */
export function finishRepair(opts: {
  group: GroupPackage;
  helpers: readonly FrostIdentifier[];
  lost: FrostIdentifier;
  commitments: unknown;
  sigmas: unknown;
  echoes: unknown;
}): SigningShare {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const group = checkedGroup(opts.group);
  const { helpers, lost } = checkedRoles(group, opts.helpers, opts.lost);
  const received = readCommitmentMessages('repair', 'helper', opts.commitments, helpers);
  assertEchoesAgree('repair', commitmentEcho('repair', received), opts.echoes, helpers, 'helper');
  const rejections: Rejection[] = [];
  const vectors = new Map<FrostIdentifier, CurvePoint[]>();
  for (const helper of helpers) {
    const points = readPieces(group, helpers, lost, helper, received.get(helper) as string[]);
    if (typeof points === 'string') rejections.push({ from: helper, role: 'helper', reason: points });
    else vectors.set(helper, points);
  }
  throwIfRejected('repair', rejections);
  const sigmas: bigint[] = [];
  for (const [helper, value] of expectedEntries('repair', opts.sigmas, helpers, 'sigmas')) {
    const sigma = readSubShare(value, lost);
    const position = helpers.indexOf(helper);
    const expected = sumPoints(helpers.map((i) => (vectors.get(i) as CurvePoint[])[position] as CurvePoint));
    if (typeof sigma === 'string') rejections.push({ from: helper, role: 'helper', reason: sigma });
    else if (!baseMultiply(sigma).equals(expected))
      rejections.push({ from: helper, role: 'helper', reason: 'sent a σ that does not match the piece commitments' });
    else sigmas.push(sigma);
  }
  try {
    throwIfRejected('repair', rejections);
    const share = sigmas.reduce((acc, s) => Fn.add(acc, s), Fn.ZERO);
    return SigningShare.fromHex(lost, scalarToHex(share), group);
  } finally {
    wipe(sigmas);
  }
}
