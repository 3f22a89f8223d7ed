import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';
import { dealerKeygen, identifierFromIndex, parseGroupPackage, SigningShare } from '../../src/crypto/frost.js';
import { coefficientBytes, Fn, Point, queueRng } from './frost-helpers.js';
import { readVectorJson } from './vectors.js';

interface RfcVectors {
  config: { MAX_PARTICIPANTS: string; MIN_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    group_secret_key: string;
    group_public_key: string;
    share_polynomial_coefficients: string[];
    participant_shares: { identifier: number; participant_share: string }[];
  };
}

// RFC 9591 Appendix E.5, FROST(secp256k1, SHA-256). Not our (Taproot) suite: only the key material
// is checked, which is suite-independent Shamir sharing (Appendix C).
const v = readVectorJson<RfcVectors>('rfc9591-cfrg/frost-secp256k1-sha256.json');
const h = (hex: string) => BigInt('0x' + hex);
const secret = h(v.inputs.group_secret_key);
const coefficients = [secret, ...v.inputs.share_polynomial_coefficients.map(h)];

/** RFC 9591 §4.2 derive_interpolating_value, evaluated at 0. */
function lagrangeAtZero(xs: bigint[], xi: bigint): bigint {
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const x of xs) {
    if (x === xi) continue;
    num = Fn.mul(num, x);
    den = Fn.mul(den, Fn.sub(x, xi));
  }
  return Fn.div(num, den);
}

describe('RFC 9591 FROST(secp256k1, SHA-256) key material', () => {
  it('has a group public key that is the group secret key times G', () => {
    expect(Point.BASE.multiply(secret).toHex(true)).toBe(v.inputs.group_public_key);
  });

  it('has participant shares that are the sharing polynomial evaluated at each identifier', () => {
    for (const p of v.inputs.participant_shares) {
      const x = BigInt(p.identifier);
      // RFC 9591 Appendix C.1 polynomial_evaluate: Horner's rule over the coefficients.
      const y = coefficients.reduceRight((acc, c) => Fn.add(Fn.mul(acc, x), c), Fn.ZERO);
      expect(bytesToHex(Fn.toBytes(y))).toBe(p.participant_share);
    }
  });

  it('interpolates the group secret from every threshold-sized set of shares, the vector signers included', () => {
    const shares = v.inputs.participant_shares;
    const threshold = Number(v.config.MIN_PARTICIPANTS);
    const pairs = shares.flatMap((a, i) => shares.slice(i + 1).map((b) => [a, b]));
    expect(pairs).toHaveLength(3);
    expect(threshold).toBe(2);
    for (const set of pairs) {
      const xs = set.map((s) => BigInt(s!.identifier));
      const recovered = set.reduce(
        (acc, s) => Fn.add(acc, Fn.mul(h(s!.participant_share), lagrangeAtZero(xs, BigInt(s!.identifier)))),
        Fn.ZERO,
      );
      expect(recovered).toBe(secret);
    }
    const signers = shares.filter((s) => v.inputs.participant_list.includes(s.identifier));
    expect(signers.map((s) => s.identifier)).toEqual([1, 3]);
  });

  it('loads as a GroupPackage whose shares pass the verifying constructor', () => {
    const group = parseGroupPackage({
      threshold: Number(v.config.MIN_PARTICIPANTS),
      maxSigners: Number(v.config.MAX_PARTICIPANTS),
      groupKey: v.inputs.group_public_key,
      commitments: coefficients.map((c) => Point.BASE.multiply(c).toHex(true)),
      verifyingShares: Object.fromEntries(
        v.inputs.participant_shares.map((p) => [
          identifierFromIndex(p.identifier),
          Point.BASE.multiply(h(p.participant_share)).toHex(true),
        ]),
      ),
    });
    for (const p of v.inputs.participant_shares) {
      const share = SigningShare.fromHex(identifierFromIndex(p.identifier), p.participant_share, group);
      expect(share.publicShare()).toBe(group.verifyingShares[share.identifier]);
    }
  });

  it('is reproduced by our dealer given the same secret and coefficients', () => {
    const { group, shares } = dealerKeygen({
      threshold: 2,
      maxSigners: 3,
      secretKey: hexToBytes(v.inputs.group_secret_key),
      rng: queueRng(v.inputs.share_polynomial_coefficients.map(coefficientBytes)),
    });
    expect(group.groupKey).toBe(v.inputs.group_public_key);
    expect(shares.map((s) => s.toHex())).toEqual(v.inputs.participant_shares.map((p) => p.participant_share));
  });
});
