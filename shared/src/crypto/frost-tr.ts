/**
 * The signing hot path of FROST-secp256k1-SHA256-TR-v1 (RFC 9591 with BIP-340's even-y rules, as
 * ZF `frost-secp256k1-tr` and noble's `schnorr_FROST` define it), with the point maths on
 * libsecp256k1 (secp256k1-wasm.ts): nonce commitments, binding factors, group commitment, the
 * signature share and the sum of shares. noble's pure-JS versions of these were most of a share
 * node's and the coordinator's CPU per signature (issue 9). Hashes and scalar maths stay noble's.
 *
 * Nothing here checks its inputs: frost.ts does, before calling, and it verifies every aggregate
 * with libsecp256k1's BIP-340 verifier before anything leaves it. The ZF vectors and a
 * comparison with noble on random groups and signer sets pin these functions (frost-tr.test.ts).
 * `undefined` means libsecp256k1 refused an intermediate (a point at infinity, probability ~2^-256);
 * frost.ts then takes noble's path.
 */
import { schnorr, secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { baseMultiply, pointAdd, pointMultiply } from './secp256k1-wasm.js';

const SUITE = 'FROST-secp256k1-SHA256-TR-v1';
const Fn = secp256k1.Point.Fn;
const DST = {
  rho: utf8ToBytes(`${SUITE}rho`),
  nonce: utf8ToBytes(`${SUITE}nonce`),
  msg: utf8ToBytes(`${SUITE}msg`),
  com: utf8ToBytes(`${SUITE}com`),
};

/** One signer's round-one commitment: its identifier scalar and (D_i, E_i), 33-byte compressed. */
export interface TrCommitment {
  identifier: bigint;
  hiding: Uint8Array;
  binding: Uint8Array;
}

/** R = Σ D_i + ρ_i·E_i, and every ρ_i in the order of the list. */
export interface TrGroupCommitment {
  point: Uint8Array;
  bindingFactors: bigint[];
}

/**
 * RFC 9591 §5.1 commit(): nonce_generate(sk) = H3(random_bytes(32) || SerializeScalar(sk)), hiding
 * first, and the commitments d·G, e·G by libsecp256k1's constant-time generator multiplication.
 */
export function trCommit(
  secretShare: Uint8Array,
  rng: (n: number) => Uint8Array,
): { hiding: Uint8Array; binding: Uint8Array; hidingCommitment: Uint8Array; bindingCommitment: Uint8Array } {
  const nonce = () => Fn.toBytes(secp256k1_hasher.hashToScalar(concatBytes(rng(32), secretShare), { DST: DST.nonce }));
  const hiding = nonce();
  const binding = nonce();
  const hidingCommitment = baseMultiply(hiding);
  const bindingCommitment = baseMultiply(binding);
  // A zero nonce has probability ~2^-256; refusing it keeps the identity out of any commitment.
  if (hidingCommitment === undefined || bindingCommitment === undefined) throw new Error('nonce_generate gave zero');
  return { hiding, binding, hidingCommitment, bindingCommitment };
}

/**
 * RFC 9591 §4.4 compute_binding_factors and §4.5 compute_group_commitment. `evenKey` is the group
 * key after the TR suite's even-y adjustment (33 bytes); `list` is sorted by identifier (§4.3).
 */
export function trGroupCommitment(
  evenKey: Uint8Array,
  list: readonly TrCommitment[],
  message: Uint8Array,
): TrGroupCommitment | undefined {
  const ids = list.map((c) => Fn.toBytes(c.identifier));
  const encoded = concatBytes(...list.flatMap((c, i) => [ids[i] as Uint8Array, c.hiding, c.binding]));
  const prefix = concatBytes(evenKey, sha256(concatBytes(DST.msg, message)), sha256(concatBytes(DST.com, encoded)));
  const bindingFactors = ids.map((id) => secp256k1_hasher.hashToScalar(concatBytes(prefix, id), { DST: DST.rho }));
  let point: Uint8Array | undefined;
  for (const [i, c] of list.entries()) {
    const bound = pointMultiply(c.binding, Fn.toBytes(bindingFactors[i] as bigint));
    const term = bound && pointAdd(c.hiding, bound);
    if (term === undefined) return undefined;
    if (point === undefined) point = term;
    else {
      point = pointAdd(point, term);
      if (point === undefined) return undefined;
    }
  }
  return point === undefined ? undefined : { point, bindingFactors };
}

/** RFC 9591 §4.2 derive_interpolating_value: λ_i = Π x_j / (x_j − x_i) over the other signers. */
function lagrange(identifiers: readonly bigint[], own: bigint): bigint {
  let numerator = Fn.ONE;
  let denominator = Fn.ONE;
  for (const x of identifiers) {
    if (x === own) continue;
    numerator = Fn.mul(numerator, x);
    denominator = Fn.mul(denominator, Fn.sub(x, own));
  }
  return Fn.div(numerator, denominator);
}

/** BIP-340's challenge, which the TR suite uses as H2: tagged hash of x(R) || x(Q) || m, mod n. */
function challenge(groupCommitment: Uint8Array, evenKey: Uint8Array, message: Uint8Array): bigint {
  const digest = schnorr.utils.taggedHash('BIP0340/challenge', groupCommitment.subarray(1), evenKey.subarray(1), message);
  return Fn.create(Fn.fromBytes(digest, true));
}

/**
 * RFC 9591 §5.2 sign() for the TR suite: z_i = d_i + e_i·ρ_i + λ_i·s_i·c, with (d_i, e_i) negated
 * when R has odd y and s_i negated when the group key has odd y (BIP-340 signs with even points).
 */
export function trSignatureShare(input: {
  identifier: bigint;
  secretShare: Uint8Array;
  hiding: Uint8Array;
  binding: Uint8Array;
  keyHasOddY: boolean;
  evenKey: Uint8Array;
  list: readonly TrCommitment[];
  message: Uint8Array;
}): Uint8Array | undefined {
  const { list, identifier } = input;
  const committed = trGroupCommitment(input.evenKey, list, input.message);
  if (committed === undefined) return undefined;
  const index = list.findIndex((c) => c.identifier === identifier);
  const rho = committed.bindingFactors[index] as bigint;
  const lambda = lagrange(
    list.map((c) => c.identifier),
    identifier,
  );
  const c = challenge(committed.point, input.evenKey, input.message);
  const oddR = committed.point[0] === 0x03;
  let d = Fn.fromBytes(input.hiding);
  let e = Fn.fromBytes(input.binding);
  if (oddR) {
    d = Fn.neg(d);
    e = Fn.neg(e);
  }
  let s = Fn.fromBytes(input.secretShare);
  if (input.keyHasOddY) s = Fn.neg(s);
  return Fn.toBytes(Fn.add(Fn.add(d, Fn.mul(e, rho)), Fn.mul(Fn.mul(lambda, s), c)));
}

/**
 * RFC 9591 §5.3 aggregate(): the 64-byte BIP-340 signature x(R) || Σ z_i, from the package's
 * group commitment (`trGroupCommitment`). Unverified: the caller verifies it, and names culprits
 * share by share when it fails.
 */
export function trAggregate(
  committed: TrGroupCommitment | undefined,
  shares: readonly Uint8Array[],
): Uint8Array | undefined {
  if (committed === undefined) return undefined;
  let z = Fn.ZERO;
  for (const share of shares) z = Fn.add(z, Fn.fromBytes(share));
  return concatBytes(committed.point.subarray(1), Fn.toBytes(z));
}
