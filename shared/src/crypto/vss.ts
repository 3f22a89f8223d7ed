/**
 * Feldman VSS point maths over secp256k1 (RFC 9591 Appendix C.2): evaluate a commitment at an
 * identifier, and rebuild the commitments from verifying shares when a format (FROSTR) ships only
 * those. Public values only, so variable-time arithmetic is fine here.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, invalidInput } from './bytes.js';

const Point = secp256k1.Point;
const Fn = Point.Fn;

/** n, the order of the secp256k1 group (scalars and identifiers live below it). */
export const groupOrder: bigint = Fn.ORDER;

/** A decoded secp256k1 point. */
export type CurvePoint = InstanceType<typeof Point>;

/** Decodes a 33-byte compressed point (lower-case hex) that is on the curve and not the identity. */
export function decodePoint(hex: unknown, title: string): CurvePoint {
  const bytes = hexToBytes(hex, 33, title);
  try {
    // RFC 9591 §3.1 DeserializeElement: "fails if the input is not a valid ... element or is the
    // identity element". fromBytes checks the curve equation; secp256k1 has cofactor 1.
    const point = Point.fromBytes(bytes);
    point.assertValidity();
    if (point.is0()) throw new Error('identity');
    return point;
  } catch {
    throw invalidInput(title, 'a compressed secp256k1 point');
  }
}

/** Encodes a point as 33-byte compressed lower-case hex. */
export function encodePoint(point: CurvePoint): string {
  return point.toHex(true);
}

/**
 * Evaluates the committed polynomial at `x` in the exponent.
 * RFC 9591 Appendix C.2: "S_i' = G.ScalarMult(vss_commitment[0], i^0) + ... +
 * G.ScalarMult(vss_commitment[t-1], i^(t-1))", computed here by Horner's rule.
 */
export function evaluateVss(commitments: readonly CurvePoint[], x: bigint): CurvePoint {
  let acc = Point.ZERO;
  for (let j = commitments.length - 1; j >= 0; j--) {
    acc = acc.multiplyUnsafe(x).add(commitments[j] as CurvePoint);
  }
  return acc;
}

/**
 * Rebuilds the VSS commitments [a_0·G, …, a_{t-1}·G] from `threshold` verifying shares f(x_i)·G by
 * Lagrange interpolation in the exponent: a_j·G = Σ_i c_{i,j}·Y_i, where c_{i,j} is the x^j
 * coefficient of the Lagrange basis polynomial ℓ_i. Callers must check the result against every
 * other verifying share; this function only uses the first `threshold` of them.
 */
export function commitmentsFromVerifyingShares(
  threshold: number,
  shares: readonly { x: bigint; point: CurvePoint }[],
): CurvePoint[] {
  if (!Number.isSafeInteger(threshold) || threshold < 1 || shares.length < threshold)
    throw invalidInput('threshold', `1..${shares.length} (number of verifying shares)`);
  const basis = shares.slice(0, threshold);
  const xs = basis.map((s) => s.x);
  if (new Set(xs).size !== xs.length || xs.some((x) => !Fn.isValidNot0(x)))
    throw invalidInput('shares', 'distinct non-zero identifiers');
  const commitments: CurvePoint[] = Array.from({ length: threshold }, () => Point.ZERO);
  basis.forEach(({ x: xi, point }, i) => {
    // ℓ_i(x) = Π_{m≠i} (x - x_m) / (x_i - x_m); expand the numerator one factor at a time.
    let numerator: bigint[] = [Fn.ONE];
    let denominator = Fn.ONE;
    xs.forEach((xm, m) => {
      if (m === i) return;
      const next: bigint[] = new Array<bigint>(numerator.length + 1).fill(Fn.ZERO);
      numerator.forEach((c, k) => {
        next[k + 1] = Fn.add(next[k + 1] as bigint, c);
        next[k] = Fn.sub(next[k] as bigint, Fn.mul(c, xm));
      });
      numerator = next;
      denominator = Fn.mul(denominator, Fn.sub(xi, xm));
    });
    const inverse = Fn.inv(denominator);
    numerator.forEach((c, j) => {
      const coefficient = Fn.mul(c, inverse);
      if (Fn.is0(coefficient)) return;
      commitments[j] = (commitments[j] as CurvePoint).add(point.multiplyUnsafe(coefficient));
    });
  });
  // A zero coefficient has no point encoding (RFC 9591 §3.1 rejects the identity element).
  if (commitments.some((c) => c.is0()))
    throw invalidInput('shares', 'verifying shares of a non-degenerate polynomial');
  return commitments;
}
