/**
 * Distributed key generation (issue 7): n share nodes create a k-of-n FROST key that never exists
 * in one place (Komlo–Goldberg 2020, "FROST", Figure 1; ZF frost-core `keys::dkg`). Each
 * participant runs three steps; the caller moves the messages:
 *
 *   1. startDkg  → DkgRound1Message: Feldman commitments to a random polynomial of degree k−1 and
 *                  a proof of knowledge of its constant term. Broadcast.
 *   2. dealDkg   ← every participant's round-one message (ours included). Checks every proof,
 *                  naming culprits, then → one SubShare f_i(j) per participant j (secret: encrypt
 *                  to j; ours to ourselves) and a CommitmentEcho. Broadcast the echo.
 *   3. finishDkg ← every sub-share addressed to us and every other participant's echo. Compares
 *                  the echoes first (equivocation), checks each sub-share against its sender's
 *                  commitments (full point equality), sums → GroupPackage and our SigningShare.
 *
 * Untweaked: noble's DKG.round3 adds the empty-merkle-root Taproot tweak (for ZF
 * frost-secp256k1-tr compatibility), which DESIGN.md rules out ("No tweaks"), so step three is
 * ours; rounds one and two are noble's, reached through frost.ts (the only FROST importer).
 * Participants are the identifiers of indices 1..maxSigners, as in dealerKeygen. Any failure ends
 * the ceremony: the state is discarded and nothing usable is left behind.
 */
import { z } from 'zod';
import { FrostbunkerError, ProtocolError } from '../errors.js';
import { hexOfBytes, type FrostIdentifier } from '../protocol/brands.js';
import { invalidInput } from './bytes.js';
import {
  assertCounts,
  assertEchoesAgree,
  commitmentEcho,
  createSubShare,
  decodeVector,
  expectedEntries,
  groupFromCommitments,
  readSubShare,
  throwIfRejected,
  type CommitmentEcho,
  type Rejection,
  type SubShare,
} from './ceremony.js';
import {
  dkgCommit,
  dkgDiscard,
  dkgEvaluate,
  dkgProofIsValid,
  identifierFromIndex,
  SigningShare,
  type DkgPolynomial,
} from './frost.js';
import { identifierScalar, MAX_SIGNERS, MIN_THRESHOLD, type GroupPackage } from './group-package.js';
import { baseMultiply, scalarField as Fn, scalarToHex, sumPoints, type Rng } from './polynomial.js';
import { RedactedSecret } from './redact.js';
import { evaluateVss, type CurvePoint } from './vss.js';

/** Round one, broadcast: commitments a_0·G … a_{k−1}·G and the proof of knowledge of a_0 (x(R) || μ). */
export interface DkgRound1Message {
  commitments: string[];
  proofOfKnowledge: string;
}

/** Wire shape only; the count and the proof are checked by dealDkg, which can name the sender. */
export const dkgRound1MessageSchema: z.ZodType<DkgRound1Message> = z.strictObject({
  commitments: z.array(hexOfBytes(33)).min(MIN_THRESHOLD).max(MAX_SIGNERS),
  proofOfKnowledge: hexOfBytes(64),
});

interface DkgInternal {
  polynomial: DkgPolynomial;
  participants: FrostIdentifier[];
  message: DkgRound1Message;
  phase: 'committed' | 'dealt';
  vectors: Map<FrostIdentifier, CurvePoint[]>;
  echo: CommitmentEcho | undefined;
}

const DKG_STATE: unique symbol = Symbol('dkg.state');
const states = new WeakMap<DkgState, DkgInternal>();

/** One participant's DKG in progress (it holds the secret polynomial); prints `<redacted>`. */
export class DkgState extends RedactedSecret {
  readonly identifier: FrostIdentifier;
  readonly threshold: number;
  readonly maxSigners: number;

  constructor(token: typeof DKG_STATE, identifier: FrostIdentifier, threshold: number, maxSigners: number) {
    super();
    if (token !== DKG_STATE) throw invalidInput('DkgState', 'construction via startDkg()');
    this.identifier = identifier;
    this.threshold = threshold;
    this.maxSigners = maxSigners;
  }

  /** Ends the ceremony here (timeout, abort): erases the polynomial. Idempotent. */
  discard(): void {
    const internal = states.get(this);
    if (internal === undefined) return;
    dkgDiscard(internal.polynomial);
    states.delete(this);
  }
}

function live(state: DkgState, phase: DkgInternal['phase'], step: string): DkgInternal {
  const internal = state instanceof DkgState ? states.get(state) : undefined;
  if (internal === undefined) throw invalidInput('state', 'a live DkgState (not finished or discarded)');
  if (internal.phase !== phase) throw invalidInput('state', `a DkgState ready for ${step}`);
  return internal;
}

/**
 * Step one: commit to a fresh random polynomial for a `threshold`-of-`maxSigners` key.
 * @example const { state, message } = startDkg({ identifier: identifierFromIndex(1), threshold: 2, maxSigners: 3 })
 */
export function startDkg(opts: {
  identifier: FrostIdentifier;
  threshold: number;
  maxSigners: number;
  rng?: Rng;
}): { state: DkgState; message: DkgRound1Message } {
  if (typeof opts !== 'object' || opts === null) throw invalidInput('opts', 'object');
  const { identifier, threshold, maxSigners } = opts;
  assertCounts(threshold, maxSigners, 'opts');
  const participants = Array.from({ length: maxSigners }, (_, i) => identifierFromIndex(i + 1));
  if (!participants.includes(identifier))
    throw invalidInput('opts.identifier', `the identifier of an index 1..${maxSigners}`);
  const { polynomial, commitments, proofOfKnowledge } = dkgCommit(identifier, threshold, maxSigners, opts.rng);
  const message: DkgRound1Message = Object.freeze({
    commitments: Object.freeze(commitments) as string[],
    proofOfKnowledge,
  });
  const state = new DkgState(DKG_STATE, identifier, threshold, maxSigners);
  states.set(state, { polynomial, participants, message, phase: 'committed', vectors: new Map(), echo: undefined });
  return { state, message };
}

/**
 * Step two: verifies every participant's round-one message (count, points, proof of knowledge;
 * Komlo–Goldberg Figure 1 round 1 step 5) and deals our polynomial: one SubShare per participant,
 * us included. `round1` is keyed by authenticated sender and must hold all maxSigners of them.
 * Throws CeremonyError naming every participant whose message failed.
 */
export function dealDkg(state: DkgState, round1: unknown): { subShares: SubShare[]; echo: CommitmentEcho } {
  const internal = live(state, 'committed', 'dealDkg');
  try {
    const me = state.identifier;
    const rejections: Rejection[] = [];
    const others: { identifier: FrostIdentifier; commitments: string[]; proofOfKnowledge: string }[] = [];
    const vectors = new Map<FrostIdentifier, string[]>();
    for (const [sender, value] of expectedEntries('dkg', round1, internal.participants, 'round-one messages')) {
      const parsed = dkgRound1MessageSchema.safeParse(value);
      if (sender === me) {
        // Ours came back through the coordinator: anything else means it was altered on the way.
        const same =
          parsed.success &&
          parsed.data.proofOfKnowledge === internal.message.proofOfKnowledge &&
          parsed.data.commitments.join() === internal.message.commitments.join();
        if (!same) throw new ProtocolError('PROTOCOL_INVALID', 'dkg: our own round-one message came back altered');
        vectors.set(me, [...internal.message.commitments]);
        continue;
      }
      const reject = (reason: string) => rejections.push({ from: sender, role: 'participant', reason });
      if (!parsed.success) {
        reject('sent a malformed round-one message');
        continue;
      }
      const points = decodeVector(parsed.data.commitments, state.threshold);
      if (typeof points === 'string') reject(points);
      else if (!dkgProofIsValid(sender, parsed.data.commitments[0], parsed.data.proofOfKnowledge))
        reject('sent an invalid proof of knowledge');
      else {
        others.push({ identifier: sender, ...parsed.data });
        vectors.set(sender, [...parsed.data.commitments]);
      }
    }
    throwIfRejected('dkg', rejections);
    const dealt = dkgEvaluate(internal.polynomial, others);
    const subShares = internal.participants.map((recipient) => {
      const bytes = dealt.get(recipient);
      if (bytes === undefined) throw new FrostbunkerError('INTERNAL', `dkg: noble dealt no share for ${recipient}`);
      const subShare = createSubShare('dkg', me, recipient, Fn.fromBytes(bytes));
      bytes.fill(0);
      return subShare;
    });
    for (const [id, vector] of vectors) internal.vectors.set(id, decodeVector(vector, state.threshold) as CurvePoint[]);
    internal.echo = commitmentEcho('dkg', vectors);
    internal.phase = 'dealt';
    return { subShares, echo: internal.echo };
  } catch (error) {
    state.discard();
    throw error;
  }
}

/**
 * Step three: compares every other participant's echo with ours (CommitmentMismatchError names
 * the participant whose vector differed), then checks each sub-share addressed to us against its
 * sender's commitments (RFC 9591 Appendix C.2 vss_verify, full point equality) and sums them.
 * Returns the group (same for every honest participant) and our share, which went through the
 * verifying constructor. Consumes the state whatever the outcome.
 */
export function finishDkg(
  state: DkgState,
  subShares: unknown,
  echoes: unknown,
): { group: GroupPackage; share: SigningShare } {
  const internal = live(state, 'dealt', 'finishDkg');
  try {
    const me = state.identifier;
    const { participants, vectors } = internal;
    const others = participants.filter((p) => p !== me);
    assertEchoesAgree('dkg', internal.echo as CommitmentEcho, echoes, others, 'participant');
    const x = identifierScalar(me, 'identifier');
    const rejections: Rejection[] = [];
    let sum = Fn.ZERO;
    for (const [sender, value] of expectedEntries('dkg', subShares, participants, 'sub-shares')) {
      const reject = (reason: string) => rejections.push({ from: sender, role: 'participant', reason });
      const scalar = readSubShare(value, me);
      if (typeof scalar === 'string') reject(scalar);
      else if (!baseMultiply(scalar).equals(evaluateVss(vectors.get(sender) as CurvePoint[], x)))
        reject('sent a sub-share that does not match its commitments');
      else sum = Fn.add(sum, scalar);
    }
    throwIfRejected('dkg', rejections);
    // The group polynomial is the sum of everyone's: its commitments are the sums of theirs.
    const commitments = Array.from({ length: state.threshold }, (_, j) =>
      sumPoints(participants.map((p) => (vectors.get(p) as CurvePoint[])[j] as CurvePoint)),
    );
    const group = groupFromCommitments('dkg', state.threshold, participants, commitments);
    return { group, share: SigningShare.fromHex(me, scalarToHex(sum), group) };
  } finally {
    state.discard();
  }
}
