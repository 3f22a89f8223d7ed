/**
 * Test helpers for FROST: deterministic rngs, a full signing session through our wrapper, and an
 * independent transcription of RFC 9591 §4.4/§4.5 (binding factors, group commitment) used to
 * observe R's parity, which the 64-byte signature hides.
 */
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { hexToBytes } from '../../src/crypto/bytes.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  signShare,
  type GroupPackage,
  type SigningCommitments,
  type SigningPackage,
  type SigningShare,
} from '../../src/crypto/frost.js';
import type { FrostIdentifier } from '../../src/protocol/brands.js';

export const Point = secp256k1.Point;
export const Fn = Point.Fn;
const SUITE = 'FROST-secp256k1-SHA256-TR-v1';

/** An rng that hands out the given byte strings in order, then fails (a test must not run past it). */
export function queueRng(chunks: Uint8Array[]): (n: number) => Uint8Array {
  const queue = [...chunks];
  return (n: number) => {
    const next = queue.shift();
    if (next === undefined) throw new Error('queueRng: exhausted');
    if (next.length !== n) throw new Error(`queueRng: asked for ${n} bytes, have ${next.length}`);
    return next;
  };
}

/** A deterministic, seedable rng (sha256 counter mode): reproducible keys and nonces for tests. */
export function seededRng(seed: number): (n: number) => Uint8Array {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let offset = 0; offset < n; offset += 32) {
      const block = sha256(utf8ToBytes(`frostbunker-test:${seed}:${counter++}`));
      out.set(block.subarray(0, Math.min(32, n - offset)), offset);
    }
    return out;
  };
}

/**
 * noble derives each dealer coefficient as mapHashToField(rng(48)) = (int mod (n-1)) + 1, so 48
 * bytes encoding c - 1 reproduce coefficient c exactly.
 */
export function coefficientBytes(coefficientHex: string): Uint8Array {
  return numberToBytesBE(BigInt('0x' + coefficientHex) - 1n, 48);
}

export interface Session {
  pkg: SigningPackage;
  shares: Record<FrostIdentifier, string>;
}

/** Runs rounds one and two for `signers` over `message`; returns the package and the signature shares. */
export function runRounds(
  group: GroupPackage,
  signers: SigningShare[],
  message: Uint8Array,
  rng?: (n: number) => Uint8Array,
): Session {
  const round1 = signers.map((share) => ({ share, ...commit(share, rng) }));
  const pkg = createSigningPackage(
    message,
    round1.map((r) => r.commitments),
  );
  const shares: Record<FrostIdentifier, string> = {};
  for (const r of round1) shares[r.share.identifier] = signShare(r.share, group, r.nonces, pkg);
  return { pkg, shares };
}

/** Signs `message` with `signers` and returns the aggregated 64-byte signature, hex. */
export function signWith(
  group: GroupPackage,
  signers: SigningShare[],
  message: Uint8Array,
  rng?: (n: number) => Uint8Array,
): string {
  const { pkg, shares } = runRounds(group, signers, message, rng);
  return aggregateSignature(group, pkg, shares);
}

const evenY = (p: InstanceType<typeof Point>) => (p.toAffine().y & 1n) === 0n;

/** RFC 9591 §4.4 compute_binding_factors, transcribed for the TR suite (group key taken even-y). */
export function bindingFactors(
  groupKeyHex: string,
  commitments: readonly SigningCommitments[],
  message: Uint8Array,
): { inputs: Record<string, Uint8Array>; factors: Record<string, bigint> } {
  let Q = Point.fromHex(groupKeyHex);
  if (!evenY(Q)) Q = Q.negate();
  const sorted = [...commitments].sort((a, b) => (a.identifier < b.identifier ? -1 : 1));
  // §4.3 encode_group_commitment_list: identifier || hiding || binding for each, in order.
  const encoded = concatBytes(
    ...sorted.flatMap((c) => [hexToBytes(c.identifier), hexToBytes(c.hiding), hexToBytes(c.binding)]),
  );
  const H4 = sha256(concatBytes(utf8ToBytes(SUITE + 'msg'), message));
  const H5 = sha256(concatBytes(utf8ToBytes(SUITE + 'com'), encoded));
  const prefix = concatBytes(Q.toBytes(true), H4, H5);
  const inputs: Record<string, Uint8Array> = {};
  const factors: Record<string, bigint> = {};
  for (const c of sorted) {
    const input = concatBytes(prefix, hexToBytes(c.identifier));
    inputs[c.identifier] = input;
    factors[c.identifier] = secp256k1_hasher.hashToScalar(input, { DST: utf8ToBytes(SUITE + 'rho') });
  }
  return { inputs, factors };
}

/** RFC 9591 §4.5 compute_group_commitment: R = Σ D_i + ρ_i·E_i. */
export function groupCommitment(groupKeyHex: string, commitments: readonly SigningCommitments[], message: Uint8Array) {
  const { factors } = bindingFactors(groupKeyHex, commitments, message);
  return commitments.reduce(
    (acc, c) =>
      acc.add(Point.fromHex(c.hiding)).add(Point.fromHex(c.binding).multiply(factors[c.identifier] as bigint)),
    Point.ZERO,
  );
}

export function isOddY(pointOrHex: string | InstanceType<typeof Point>): boolean {
  const p = typeof pointOrHex === 'string' ? Point.fromHex(pointOrHex) : pointOrHex;
  return !evenY(p);
}

/** n - z: the negation of a scalar, 32-byte hex. */
export function negateScalarHex(hex: string): string {
  return Fn.toBytes(Fn.neg(BigInt('0x' + hex))).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');
}

/**
 * (n, k, signer indices) with 2 ≤ k ≤ n ≤ `maxN` (noble, like ZF, refuses k = 1) and a random
 * subset of indices 0..n−1: exactly k of them, or, with `signers: 'k-to-n'`, k up to n.
 */
export function groupShape(maxN: number, signers: 'k' | 'k-to-n' = 'k') {
  return fc
    .integer({ min: 2, max: maxN })
    .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n })))
    .chain(([n, k]) =>
      fc.tuple(
        fc.constant(n),
        fc.constant(k),
        fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: k, maxLength: signers === 'k' ? k : n },
        ),
      ),
    );
}
