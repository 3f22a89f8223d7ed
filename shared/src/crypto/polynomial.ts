/**
 * Secret-sharing polynomial maths over the secp256k1 scalar field for the key ceremonies (refresh,
 * reshare, repair, and our own share in DKG): random coefficients, evaluation, Feldman commitments,
 * Lagrange coefficients, and best-effort erasure. No FROST-library code here.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { assertBytes, bytesToHex, hexToBytes, invalidInput, randomBytes } from './bytes.js';
import type { CurvePoint } from './vss.js';

const Point = secp256k1.Point;
const Fn = Point.Fn;

/** An injected source of randomness (tests pass a seeded one); defaults to the CSPRNG. */
export type Rng = (bytesLength: number) => Uint8Array;

/** noble (and RFC 9380 §5) reduce 48 bytes to a scalar so the bias is below 2^-128. */
const SEED_BYTES = secp256k1.lengths.seed ?? 48;

/**
 * A uniformly random scalar in 1..n-1, drawn the way noble's FROST draws dealer coefficients
 * (FIPS 186-5 A.2.1: 48 bytes reduced mod n-1, plus one), so a seeded rng gives the same numbers.
 */
export function randomScalar(rng: Rng = randomBytes): bigint {
  if (typeof rng !== 'function') throw invalidInput('rng', 'function (n) => Uint8Array');
  const seed = Uint8Array.from(assertBytes(rng(SEED_BYTES), SEED_BYTES, 'rng() output'));
  const bytes = secp256k1.utils.randomSecretKey(seed);
  const scalar = Fn.fromBytes(bytes);
  seed.fill(0);
  bytes.fill(0);
  return scalar;
}

/**
 * Coefficients [constant, a_1, …, a_degree] with fresh random a_j; the caller owns the array
 * and must wipe() it.
 */
export function randomPolynomial(constant: bigint, degree: number, rng?: Rng): bigint[] {
  if (!Number.isSafeInteger(degree) || degree < 0) throw invalidInput('degree', 'integer >= 0');
  const coefficients = [Fn.create(constant)];
  for (let j = 1; j <= degree; j++) coefficients.push(randomScalar(rng));
  return coefficients;
}

/** f(x) = Σ_j a_j·x^j by Horner's rule (RFC 9591 Appendix C.1 polynomial_evaluate). */
export function evaluatePolynomial(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = Fn.ZERO;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = Fn.add(Fn.mul(acc, x), coefficients[j] as bigint);
  return acc;
}

/** s·G for a secret s (constant-time ladder); 0 gives the identity, which noble's multiply refuses. */
export function baseMultiply(scalar: bigint): CurvePoint {
  return Fn.is0(scalar) ? Point.ZERO : Point.BASE.multiply(scalar);
}

/** The identity element (point at infinity): the commitment to a zero coefficient. */
export const IDENTITY: CurvePoint = Point.ZERO;

/** Σ points (the identity for none); public values, so plain addition. */
export function sumPoints(points: readonly CurvePoint[]): CurvePoint {
  return points.reduce((acc, p) => acc.add(p), Point.ZERO);
}

/** Feldman commitments [a_0·G, …, a_t·G] (RFC 9591 Appendix C.2 vss_commit). */
export function commitPolynomial(coefficients: readonly bigint[]): CurvePoint[] {
  return coefficients.map(baseMultiply);
}

/**
 * λ_i(x) = Π_{j≠i} (x − x_j) / (x_i − x_j): the weight of the share at x_i when interpolating the
 * value at x from the shares at xs. x = 0 is RFC 9591 §4.2 derive_interpolating_value; x = x_r is
 * what repairable threshold schemes use to rebuild the share at x_r (Laing–Stinson 2018).
 */
export function lagrangeCoefficient(xs: readonly bigint[], xi: bigint, x: bigint = Fn.ZERO): bigint {
  if (new Set(xs).size !== xs.length || !xs.includes(xi) || xs.some((v) => !Fn.isValidNot0(v)))
    throw invalidInput('xs', 'distinct non-zero identifiers including x_i');
  let numerator = Fn.ONE;
  let denominator = Fn.ONE;
  for (const xj of xs) {
    if (xj === xi) continue;
    numerator = Fn.mul(numerator, Fn.sub(x, xj));
    denominator = Fn.mul(denominator, Fn.sub(xi, xj));
  }
  return Fn.div(numerator, denominator);
}

/**
 * Best-effort erasure of secret coefficients: JavaScript bigints are immutable, so this only drops
 * our references (the values may survive until garbage collection; SECURITY.md).
 */
export function wipe(coefficients: bigint[]): void {
  coefficients.fill(Fn.ZERO);
  coefficients.length = 0;
}

/** A scalar as 32-byte big-endian (RFC 9591 §6.5 SerializeScalar). */
export function scalarToBytes(scalar: bigint): Uint8Array {
  return Fn.toBytes(Fn.create(scalar));
}

/** A scalar as 32-byte lower-case hex. */
export function scalarToHex(scalar: bigint): string {
  const bytes = scalarToBytes(scalar);
  const hex = bytesToHex(bytes);
  bytes.fill(0);
  return hex;
}

/**
 * Decodes a canonical scalar (RFC 9591 §3.1 DeserializeScalar: "fails if the input is not in the
 * range [0, G.Order() - 1]"). Zero is allowed: a sub-share may legitimately be zero.
 */
export function scalarFromHex(hex: unknown, title: string): bigint {
  const bytes = hexToBytes(hex, 32, title);
  try {
    return Fn.fromBytes(bytes);
  } catch {
    throw invalidInput(title, 'a scalar below the group order');
  } finally {
    bytes.fill(0);
  }
}

export { Fn as scalarField };
